"""Billing Portal sessions through the real SDK, and the portal page driven as a browser would."""

from __future__ import annotations

import re

import pytest
import stripe

from service.stripe_sandbox import objects
from tests.service.stripe_sandbox.conftest import Sandbox
from tests.service.stripe_sandbox.recurring import Subscribed, events_of, subscribe, types_since

RETURN_URL = "http://127.0.0.1:9/donor"


async def _portal(sandbox: Sandbox, subscribed: Subscribed) -> str:
    session = await sandbox.client.v1.billing_portal.sessions.create_async(
        {"customer": str(subscribed.subscription.customer), "return_url": RETURN_URL}
    )
    return session.url


class TestSession:
    async def test_session_has_stripes_shape_and_a_sandbox_url(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)

        session = await sandbox.client.v1.billing_portal.sessions.create_async(
            {"customer": str(subscribed.subscription.customer), "return_url": RETURN_URL, "locale": "nl"},
            options={"idempotency_key": "portal:1"},
        )

        assert session.object == "billing_portal.session"
        assert session.id.startswith("bps_")
        assert session.customer == subscribed.subscription.customer
        assert session.return_url == RETURN_URL
        assert session.locale == "nl"
        assert session.livemode is False
        assert re.fullmatch(rf"{re.escape(sandbox.url)}/billing_portal/[\w-]{{32}}", session.url)

    async def test_an_unknown_customer_is_resource_missing(self, sandbox: Sandbox) -> None:
        with pytest.raises(stripe.InvalidRequestError) as error:
            await sandbox.client.v1.billing_portal.sessions.create_async({"customer": "cus_nope"})

        assert error.value.code == "resource_missing"
        assert error.value.param == "customer"

    async def test_an_unknown_token_is_a_404_page(self, sandbox: Sandbox) -> None:
        response = await sandbox.http.get(f"{sandbox.url}/billing_portal/nope")

        assert response.status_code == 404
        assert "No such billing portal session" in response.text

    async def test_an_expired_session_is_a_404_page(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        url = await _portal(sandbox, subscribed)
        record = sandbox.state.portal_sessions[url.rsplit("/", 1)[1]]
        record.expires_at = objects.now() - 1

        response = await sandbox.http.get(url)

        assert response.status_code == 404
        assert "expired" in response.text


class TestPage:
    async def test_page_shows_the_gift_card_and_invoices(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        url = await _portal(sandbox, subscribed)

        page = await sandbox.http.get(url)

        assert page.status_code == 200
        assert "€10.00" in page.text
        assert "per month" in page.text
        assert "Monthly gift to Clean Rivers" in page.text
        assert "4242" in page.text
        assert f'href="{RETURN_URL}"' in page.text
        assert "Renews on" in page.text
        assert "<script" not in page.text

    async def test_cancel_asks_first_then_cancels_at_period_end(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        url = await _portal(sandbox, subscribed)
        sub_id = subscribed.subscription.id
        start = len(sandbox.captured.platform)

        asked = await sandbox.http.post(url, data={"action": "cancel", "subscription": sub_id})
        await sandbox.flush()
        assert "Cancel this subscription?" in asked.text
        assert types_since(sandbox, start) == []

        done = await sandbox.http.post(url, data={"action": "confirm_cancel", "subscription": sub_id})
        await sandbox.flush()
        page = await sandbox.http.get(done.headers["location"])

        assert done.status_code == 303
        assert types_since(sandbox, start) == ["customer.subscription.updated"]
        updated = sandbox.captured.platform[-1].data.object
        assert updated["cancel_at_period_end"] is True
        assert updated["status"] == "active"
        assert "Cancels on" in page.text
        assert "will be cancelled at the end of the period" in page.text

    async def test_dont_cancel_takes_it_back(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        url = await _portal(sandbox, subscribed)
        sub_id = subscribed.subscription.id
        await sandbox.http.post(url, data={"action": "confirm_cancel", "subscription": sub_id})

        await sandbox.http.post(url, data={"action": "keep", "subscription": sub_id})
        await sandbox.flush()

        sub = await sandbox.client.v1.subscriptions.retrieve_async(sub_id)
        assert sub.cancel_at_period_end is False
        assert [
            e.data.object["cancel_at_period_end"] for e in events_of(sandbox, "customer.subscription.updated")
        ] == [
            True,
            False,
        ]

    async def test_another_customers_subscription_cannot_be_touched(self, sandbox: Sandbox) -> None:
        mine = await subscribe(sandbox)
        theirs = await subscribe(sandbox)
        url = await _portal(sandbox, mine)

        response = await sandbox.http.post(
            url, data={"action": "confirm_cancel", "subscription": theirs.subscription.id}
        )
        await sandbox.flush()

        assert response.status_code == 200
        assert "No such subscription" in response.text
        sub = await sandbox.client.v1.subscriptions.retrieve_async(theirs.subscription.id)
        assert sub.cancel_at_period_end is False

    async def test_update_card_makes_it_the_default(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        url = await _portal(sandbox, subscribed)
        start = len(sandbox.captured.platform)

        response = await sandbox.http.post(
            url, data={"action": "update_card", "card_number": "5555555555554444"}
        )
        await sandbox.flush()
        page = await sandbox.http.get(response.headers["location"])

        assert types_since(sandbox, start) == ["customer.updated", "customer.subscription.updated"]
        assert "•••• 4444" in page.text
        assert "Your card was updated." in page.text
        await sandbox.control(f"subscriptions/{subscribed.subscription.id}/renew")
        await sandbox.flush()
        charge = events_of(sandbox, "charge.succeeded")[-1].data.object
        assert charge["payment_method_details"]["card"]["last4"] == "4444"

    async def test_update_card_pays_an_open_invoice(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        await sandbox.control(f"subscriptions/{subscribed.subscription.id}/renew", {"outcome": "fail"})
        url = await _portal(sandbox, subscribed)
        await sandbox.flush()
        shown = await sandbox.http.get(url)
        start = len(sandbox.captured.platform)

        await sandbox.http.post(url, data={"action": "update_card", "card_number": "5555555555554444"})
        await sandbox.flush()

        assert "A payment failed" in shown.text
        assert types_since(sandbox, start) == [
            "customer.updated",
            "customer.subscription.updated",
            "charge.succeeded",
            "payment_intent.succeeded",
            "invoice_payment.paid",
            "invoice.paid",
            "invoice.payment_succeeded",
            "customer.subscription.updated",
        ]
        assert sandbox.captured.platform[-1].data.object["status"] == "active"

    async def test_a_declining_card_is_refused_and_changes_nothing(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        url = await _portal(sandbox, subscribed)
        start = len(sandbox.captured.platform)

        response = await sandbox.http.post(
            url, data={"action": "update_card", "card_number": "4000000000000002"}
        )
        await sandbox.flush()

        assert response.status_code == 200
        assert "Your card was declined." in response.text
        assert types_since(sandbox, start) == []

    async def test_a_canceled_subscription_is_no_longer_listed(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        await sandbox.client.v1.subscriptions.cancel_async(subscribed.subscription.id)
        url = await _portal(sandbox, subscribed)

        page = await sandbox.http.get(url)

        assert "No current subscriptions." in page.text
        assert "Renews on" not in page.text


class TestSandboxControls:
    async def test_renew_buttons_renew_paid_and_declined(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        url = await _portal(sandbox, subscribed)
        sub_id = subscribed.subscription.id
        start = len(sandbox.captured.platform)

        paid = await sandbox.http.post(url, data={"action": "sandbox_renew", "subscription": sub_id})
        declined = await sandbox.http.post(url, data={"action": "sandbox_renew_fail", "subscription": sub_id})
        await sandbox.flush()
        page = await sandbox.http.get(url)

        assert paid.status_code == declined.status_code == 303
        assert types_since(sandbox, start).count("invoice.paid") == 1
        assert types_since(sandbox, start).count("invoice.payment_failed") == 1
        assert 'value="sandbox_retry"' in page.text

    async def test_let_retries_run_out_cancels(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        url = await _portal(sandbox, subscribed)
        sub_id = subscribed.subscription.id
        await sandbox.http.post(url, data={"action": "sandbox_renew_fail", "subscription": sub_id})

        await sandbox.http.post(url, data={"action": "sandbox_exhaust", "subscription": sub_id})
        await sandbox.flush()

        assert sandbox.captured.types()[-1] == "customer.subscription.deleted"

    async def test_controls_refuse_another_customers_subscription(self, sandbox: Sandbox) -> None:
        mine = await subscribe(sandbox)
        theirs = await subscribe(sandbox)
        url = await _portal(sandbox, mine)
        start = len(sandbox.captured.platform)

        response = await sandbox.http.post(
            url, data={"action": "sandbox_renew", "subscription": theirs.subscription.id}
        )
        await sandbox.flush()

        assert response.status_code == 200
        assert types_since(sandbox, start) == []
