"""The test checkout page, driven as a browser would: GET the page, POST its form."""

from __future__ import annotations

import re

import httpx

from tests.service.stripe_sandbox.conftest import Sandbox, session_params


async def _create(sandbox: Sandbox) -> str:
    session = await sandbox.client.v1.checkout.sessions.create_async(session_params())
    assert session.url is not None
    return session.url


class TestCheckoutPage:
    async def test_page_shows_amount_currency_and_three_buttons(self, sandbox: Sandbox) -> None:
        url = await _create(sandbox)

        response = await sandbox.http.get(url)

        assert response.status_code == 200
        assert "€25.00" in response.text
        assert "EUR" in response.text
        for action in ("pay", "decline", "delayed"):
            assert f'name="action" value="{action}"' in response.text
        assert 'href="http://127.0.0.1:9/campaigns/rivers"' in response.text
        assert "<script" not in response.text

    async def test_pay_redirects_to_success_url_and_delivers_signed_events(self, sandbox: Sandbox) -> None:
        url = await _create(sandbox)
        session_id = url.rsplit("/", 1)[1]

        response = await sandbox.http.post(url, data={"action": "pay", "card_number": "4242 4242 4242 4242"})
        await sandbox.flush()

        assert response.status_code == 303
        assert response.headers["location"] == f"http://127.0.0.1:9/thanks?session={session_id}"
        assert sandbox.captured.types() == [
            "charge.succeeded",
            "payment_intent.succeeded",
            "checkout.session.completed",
        ]
        assert sandbox.captured.rejected == []
        completed = sandbox.captured.platform[-1].data.object
        assert completed["id"] == session_id
        assert completed["payment_status"] == "paid"
        assert completed["metadata"]["donation_id"] == "don_123"

    async def test_paid_charge_carries_fingerprint_and_risk(self, sandbox: Sandbox) -> None:
        url = await _create(sandbox)
        await sandbox.http.post(url, data={"action": "pay", "card_number": "4242424242424242"})
        session = await sandbox.client.v1.checkout.sessions.retrieve_async(url.rsplit("/", 1)[1])
        assert isinstance(session.payment_intent, str)

        intent = await sandbox.client.v1.payment_intents.retrieve_async(
            session.payment_intent, {"expand": ["latest_charge.balance_transaction"]}
        )

        assert intent.status == "succeeded"
        assert intent.metadata.to_dict() == {"donation_id": "don_123"}
        charge = intent.latest_charge
        assert charge is not None and not isinstance(charge, str)
        assert charge.id.startswith("ch_")
        assert charge.payment_method_details is not None
        assert charge.payment_method_details.card is not None
        assert charge.payment_method_details.card.last4 == "4242"
        assert re.fullmatch(r"[A-Za-z0-9]{16}", charge.payment_method_details.card.fingerprint or "")
        assert charge.outcome is not None
        assert charge.outcome.risk_score == 12
        assert charge.outcome.risk_level == "normal"
        txn = charge.balance_transaction
        assert txn is not None and not isinstance(txn, str)
        assert txn.fee == round(2_500 * 0.029) + 30
        assert txn.net == 2_500 - txn.fee

    async def test_same_card_same_fingerprint_other_card_other(self, sandbox: Sandbox) -> None:
        fingerprints = []
        for card in ("4242424242424242", "4242424242424242", "5555555555554444"):
            url = await _create(sandbox)
            await sandbox.http.post(url, data={"action": "pay", "card_number": card})
            charge = next(o for o in reversed(sandbox.state.objects.values()) if o["object"] == "charge")
            fingerprints.append(charge["payment_method_details"]["card"]["fingerprint"])

        assert fingerprints[0] == fingerprints[1] != fingerprints[2]

    async def test_decline_keeps_the_session_open(self, sandbox: Sandbox) -> None:
        url = await _create(sandbox)

        response = await sandbox.http.post(url, data={"action": "decline"})
        await sandbox.flush()
        session = await sandbox.client.v1.checkout.sessions.retrieve_async(url.rsplit("/", 1)[1])

        assert response.status_code == 200
        assert "declined" in response.text
        assert session.status == "open"
        assert sandbox.captured.types() == ["charge.failed", "payment_intent.payment_failed"]

    async def test_declining_test_card_declines_pay(self, sandbox: Sandbox) -> None:
        url = await _create(sandbox)

        await sandbox.http.post(url, data={"action": "pay", "card_number": "4000 0000 0000 0002"})
        await sandbox.flush()

        assert sandbox.captured.types() == ["charge.failed", "payment_intent.payment_failed"]

    async def test_pay_after_decline_reuses_the_payment_intent(self, sandbox: Sandbox) -> None:
        url = await _create(sandbox)
        await sandbox.http.post(url, data={"action": "decline"})
        await sandbox.http.post(url, data={"action": "pay"})
        await sandbox.flush()

        intents = {
            e.data.object["id"] for e in sandbox.captured.platform if e.type.startswith("payment_intent")
        }

        assert len(intents) == 1
        assert sandbox.captured.types()[-1] == "checkout.session.completed"

    async def test_get_never_pays(self, sandbox: Sandbox) -> None:
        url = await _create(sandbox)

        await sandbox.http.get(url, params={"action": "pay"})
        await sandbox.flush()

        assert sandbox.captured.types() == []

    async def test_completed_session_cannot_be_paid_again(self, sandbox: Sandbox) -> None:
        url = await _create(sandbox)
        await sandbox.http.post(url, data={"action": "pay"})

        again = await sandbox.http.post(url, data={"action": "pay"})
        await sandbox.flush()

        assert again.status_code == 200
        assert sandbox.captured.types().count("checkout.session.completed") == 1

    async def test_unknown_session_page_is_404(self, sandbox: Sandbox) -> None:
        async with httpx.AsyncClient() as http:
            response = await http.get(f"{sandbox.url}/checkout/cs_test_nope")

        assert response.status_code == 404
