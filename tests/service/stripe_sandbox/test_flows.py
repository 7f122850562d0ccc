"""Delayed (SEPA-like) payments, refunds, disputes and early fraud warnings."""

from __future__ import annotations

import asyncio

import pytest
import stripe

from tests.service.stripe_sandbox.conftest import Sandbox, session_params


async def _session(sandbox: Sandbox) -> str:
    session = await sandbox.client.v1.checkout.sessions.create_async(session_params())
    return session.id


async def _paid_charge(sandbox: Sandbox, amount: int = 2_500) -> str:
    params = session_params()
    params["line_items"][0]["price_data"]["unit_amount"] = amount
    session = await sandbox.client.v1.checkout.sessions.create_async(params)
    await sandbox.control(f"sessions/{session.id}/pay")
    paid = await sandbox.client.v1.checkout.sessions.retrieve_async(
        session.id, {"expand": ["payment_intent"]}
    )
    assert isinstance(paid.payment_intent, stripe.PaymentIntent)
    assert isinstance(paid.payment_intent.latest_charge, str)
    return paid.payment_intent.latest_charge


class TestDelayedPayment:
    async def test_page_delayed_completes_unpaid_and_redirects(self, sandbox: Sandbox) -> None:
        session_id = await _session(sandbox)

        response = await sandbox.http.post(f"{sandbox.url}/checkout/{session_id}", data={"action": "delayed"})
        await sandbox.flush()
        session = await sandbox.client.v1.checkout.sessions.retrieve_async(session_id)

        assert response.status_code == 303
        assert session.status == "complete"
        assert session.payment_status == "unpaid"
        assert sandbox.captured.types() == [
            "charge.pending",
            "payment_intent.processing",
            "checkout.session.completed",
        ]
        assert sandbox.captured.platform[-1].data.object["payment_status"] == "unpaid"

    async def test_settle_succeed_emits_async_payment_succeeded(self, sandbox: Sandbox) -> None:
        session_id = await _session(sandbox)
        await sandbox.control(f"sessions/{session_id}/pay_delayed")

        await sandbox.control(f"sessions/{session_id}/settle", {"outcome": "succeed"})
        await sandbox.flush()
        session = await sandbox.client.v1.checkout.sessions.retrieve_async(
            session_id, {"expand": ["payment_intent.latest_charge"]}
        )

        assert sandbox.captured.types()[3:] == [
            "charge.succeeded",
            "payment_intent.succeeded",
            "checkout.session.async_payment_succeeded",
        ]
        assert session.payment_status == "paid"
        assert isinstance(session.payment_intent, stripe.PaymentIntent)
        charge = session.payment_intent.latest_charge
        assert isinstance(charge, stripe.Charge)
        assert charge.payment_method_details is not None
        assert charge.payment_method_details.type == "sepa_debit"

    async def test_settle_fail_emits_async_payment_failed(self, sandbox: Sandbox) -> None:
        session_id = await _session(sandbox)
        await sandbox.control(f"sessions/{session_id}/pay_delayed")

        await sandbox.control(f"sessions/{session_id}/settle", {"outcome": "fail"})
        await sandbox.flush()
        session = await sandbox.client.v1.checkout.sessions.retrieve_async(session_id)

        assert sandbox.captured.types()[3:] == [
            "charge.failed",
            "payment_intent.payment_failed",
            "checkout.session.async_payment_failed",
        ]
        assert session.payment_status == "unpaid"

    async def test_settling_twice_is_refused(self, sandbox: Sandbox) -> None:
        session_id = await _session(sandbox)
        await sandbox.control(f"sessions/{session_id}/pay_delayed")
        await sandbox.control(f"sessions/{session_id}/settle")

        response = await sandbox.http.post(f"{sandbox.url}/_control/sessions/{session_id}/settle", json={})

        assert response.status_code == 400

    async def test_settles_by_itself_after_the_configured_delay(self, sandbox: Sandbox) -> None:
        await sandbox.control("async_payments", {"settle_after_s": 0.1, "outcome": "fail"})
        session_id = await _session(sandbox)
        await sandbox.control(f"sessions/{session_id}/pay_delayed")

        for _ in range(100):
            await asyncio.sleep(0.05)
            if sandbox.state.events[-1]["type"] == "checkout.session.async_payment_failed":
                break
        await sandbox.flush()

        assert sandbox.captured.types()[-1] == "checkout.session.async_payment_failed"


class TestRefunds:
    async def test_full_refund_by_default(self, sandbox: Sandbox) -> None:
        charge_id = await _paid_charge(sandbox)

        refund = await sandbox.client.v1.refunds.create_async({"charge": charge_id})
        await sandbox.flush()
        charge = await sandbox.client.v1.charges.retrieve_async(charge_id)

        assert refund.id.startswith("re_")
        assert refund.amount == 2_500
        assert refund.status == "succeeded"
        assert charge.amount_refunded == 2_500
        assert charge.refunded is True
        assert sandbox.captured.types()[-2:] == ["charge.refunded", "refund.created"]
        assert sandbox.captured.platform[-2].data.object["amount_refunded"] == 2_500

    async def test_partial_refunds_accumulate_absolutely(self, sandbox: Sandbox) -> None:
        charge_id = await _paid_charge(sandbox)

        await sandbox.client.v1.refunds.create_async({"charge": charge_id, "amount": 1_000})
        second = await sandbox.client.v1.refunds.create_async({"charge": charge_id, "amount": 500})
        charge = await sandbox.client.v1.charges.retrieve_async(charge_id)

        assert charge.amount_refunded == 1_500
        assert charge.refunded is False
        assert (await sandbox.client.v1.refunds.retrieve_async(second.id)).amount == 500

    async def test_refund_by_payment_intent(self, sandbox: Sandbox) -> None:
        charge_id = await _paid_charge(sandbox)
        charge = await sandbox.client.v1.charges.retrieve_async(charge_id)
        assert isinstance(charge.payment_intent, str)

        refund = await sandbox.client.v1.refunds.create_async({"payment_intent": charge.payment_intent})

        assert refund.charge == charge_id

    async def test_refund_is_idempotent(self, sandbox: Sandbox) -> None:
        charge_id = await _paid_charge(sandbox)
        options: stripe.RequestOptions = {"idempotency_key": "donation:1:refund"}

        first = await sandbox.client.v1.refunds.create_async(
            {"charge": charge_id, "amount": 700}, options=options
        )
        second = await sandbox.client.v1.refunds.create_async(
            {"charge": charge_id, "amount": 700}, options=options
        )
        charge = await sandbox.client.v1.charges.retrieve_async(charge_id)

        assert first.id == second.id
        assert charge.amount_refunded == 700

    async def test_over_refund_is_an_invalid_request(self, sandbox: Sandbox) -> None:
        charge_id = await _paid_charge(sandbox)

        with pytest.raises(stripe.InvalidRequestError) as raised:
            await sandbox.client.v1.refunds.create_async({"charge": charge_id, "amount": 2_501})

        assert raised.value.param == "amount"

    async def test_refund_of_unknown_charge_is_resource_missing(self, sandbox: Sandbox) -> None:
        with pytest.raises(stripe.InvalidRequestError) as raised:
            await sandbox.client.v1.refunds.create_async({"charge": "ch_nope"})

        assert raised.value.code == "resource_missing"
        assert raised.value.param == "charge"


class TestRiskSignals:
    async def test_dispute_marks_the_charge_and_emits_dispute_created(self, sandbox: Sandbox) -> None:
        charge_id = await _paid_charge(sandbox)

        await sandbox.control(f"charges/{charge_id}/dispute", {"reason": "fraudulent"})
        await sandbox.flush()
        charge = await sandbox.client.v1.charges.retrieve_async(charge_id)

        assert charge.disputed is True
        event = sandbox.captured.platform[-1]
        assert event.type == "charge.dispute.created"
        assert event.data.object["charge"] == charge_id
        assert event.data.object["amount"] == 2_500
        assert event.data.object["id"].startswith("du_")

    async def test_early_fraud_warning_is_emitted(self, sandbox: Sandbox) -> None:
        charge_id = await _paid_charge(sandbox)

        await sandbox.control(f"charges/{charge_id}/early_fraud_warning")
        await sandbox.flush()

        event = sandbox.captured.platform[-1]
        assert event.type == "radar.early_fraud_warning.created"
        assert event.data.object["charge"] == charge_id
        assert event.data.object["actionable"] is True
