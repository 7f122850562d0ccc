"""Subscription-mode Checkout through the real SDK: create, subscribe, the objects and events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import stripe

from service.stripe_sandbox.subscriptions import shift
from tests.service.stripe_sandbox.conftest import Sandbox
from tests.service.stripe_sandbox.recurring import events_of, subscribe, subscription_params

FIRST_PAYMENT = [
    "customer.created",
    "customer.subscription.created",
    "invoice.created",
    "invoice.finalized",
    "charge.succeeded",
    "payment_intent.succeeded",
    "invoice_payment.paid",
    "invoice.paid",
    "invoice.payment_succeeded",
    "checkout.session.completed",
]


class TestCreate:
    async def test_session_is_subscription_mode_without_objects_yet(self, sandbox: Sandbox) -> None:
        session = await sandbox.client.v1.checkout.sessions.create_async(subscription_params())

        assert session.mode == "subscription"
        assert session.status == "open"
        assert session.amount_total == 1_000
        assert session.locale == "nl"
        assert session.subscription is None
        assert session.customer is None
        assert session.payment_intent is None

    async def test_page_shows_amount_per_month_and_no_delayed_button(self, sandbox: Sandbox) -> None:
        session = await sandbox.client.v1.checkout.sessions.create_async(subscription_params())
        assert session.url is not None

        page = await sandbox.http.get(session.url)

        assert page.status_code == 200
        assert "€10.00 per month" in page.text
        assert 'value="pay">Subscribe</button>' in page.text
        assert 'value="delayed"' not in page.text

    async def test_payment_intent_data_is_refused_in_subscription_mode(self, sandbox: Sandbox) -> None:
        params = subscription_params(payment_intent_data={"metadata": {"x": "y"}})

        with pytest.raises(stripe.InvalidRequestError) as error:
            await sandbox.client.v1.checkout.sessions.create_async(params)

        assert error.value.param == "payment_intent_data"

    async def test_a_price_without_recurring_is_refused(self, sandbox: Sandbox) -> None:
        params = subscription_params()
        del params["line_items"][0]["price_data"]["recurring"]

        with pytest.raises(stripe.InvalidRequestError) as error:
            await sandbox.client.v1.checkout.sessions.create_async(params)

        assert error.value.param == "line_items[0][price_data][recurring]"

    async def test_an_unknown_interval_is_refused(self, sandbox: Sandbox) -> None:
        params = subscription_params()
        params["line_items"][0]["price_data"]["recurring"] = {"interval": "fortnight"}

        with pytest.raises(stripe.InvalidRequestError):
            await sandbox.client.v1.checkout.sessions.create_async(params)

    async def test_unknown_destination_is_resource_missing(self, sandbox: Sandbox) -> None:
        params = subscription_params(subscription_data={"transfer_data": {"destination": "acct_nope"}})

        with pytest.raises(stripe.InvalidRequestError) as error:
            await sandbox.client.v1.checkout.sessions.create_async(params)

        assert error.value.code == "resource_missing"

    async def test_idempotency_key_replays_the_same_session(self, sandbox: Sandbox) -> None:
        options: stripe.RequestOptions = {"idempotency_key": "recurring:1:checkout"}
        first = await sandbox.client.v1.checkout.sessions.create_async(subscription_params(), options=options)
        again = await sandbox.client.v1.checkout.sessions.create_async(subscription_params(), options=options)

        assert again.id == first.id
        assert again.last_response is not None
        assert again.last_response.headers.get("Idempotent-Replayed") == "true"
        with pytest.raises(stripe.IdempotencyError):
            await sandbox.client.v1.checkout.sessions.create_async(
                subscription_params(customer_email="other@example.org"), options=options
            )


class TestSubscribe:
    async def test_events_come_signed_in_stripes_order(self, sandbox: Sandbox) -> None:
        await subscribe(sandbox)

        assert sandbox.captured.types() == FIRST_PAYMENT
        assert sandbox.captured.rejected == []
        assert all(e.api_version == stripe.api_version for e in sandbox.captured.platform)

    async def test_session_completes_with_subscription_customer_and_invoice(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)

        completed = events_of(sandbox, "checkout.session.completed")[0].data.object
        sub = subscribed.subscription
        assert completed["mode"] == "subscription"
        assert completed["payment_status"] == "paid"
        assert completed["subscription"] == sub.id
        assert completed["customer"] == sub.customer
        assert completed["invoice"] == sub.latest_invoice
        assert completed["payment_intent"] is None
        assert completed["customer_details"]["email"] == "donor@example.org"

    async def test_subscription_is_active_with_one_month_period_and_destination(
        self, sandbox: Sandbox
    ) -> None:
        subscribed = await subscribe(sandbox)

        sub = subscribed.subscription
        item = sub["items"]["data"][0]
        assert sub.status == "active"
        assert sub.to_dict()["metadata"] == {"recurring_gift_id": "rg_1", "campaign": "rivers"}
        assert sub.transfer_data is not None
        assert sub.transfer_data["destination"] == subscribed.account
        assert sub.cancel_at_period_end is False
        assert item["price"]["unit_amount"] == 1_000
        assert item["price"]["recurring"]["interval"] == "month"
        assert item["current_period_end"] == shift(item["current_period_start"], "month", 1)
        assert "current_period_end" not in sub.to_dict()

    async def test_invoice_names_its_subscription_only_through_parent(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)

        invoice = events_of(sandbox, "invoice.paid")[0].data.object
        assert invoice["status"] == "paid"
        assert invoice["billing_reason"] == "subscription_create"
        assert invoice["amount_paid"] == 1_000
        assert invoice["parent"]["type"] == "subscription_details"
        details = invoice["parent"]["subscription_details"]
        assert details["subscription"] == subscribed.subscription.id
        assert details["metadata"].to_dict() == {"recurring_gift_id": "rg_1", "campaign": "rivers"}
        assert invoice["customer_email"] == "donor@example.org"
        for removed in ("subscription", "payment_intent", "charge", "payments"):
            assert removed not in invoice.to_dict()
        assert invoice["lines"]["data"][0]["subscription"] == subscribed.subscription.id

    async def test_invoice_payment_links_the_invoice_to_its_charged_intent(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)

        link = events_of(sandbox, "invoice_payment.paid")[0].data.object
        intent = events_of(sandbox, "payment_intent.succeeded")[0].data.object
        charge = events_of(sandbox, "charge.succeeded")[0].data.object
        assert link["invoice"] == subscribed.subscription.latest_invoice
        assert link["status"] == "paid"
        assert link["amount_paid"] == 1_000
        assert link["payment"].to_dict() == {
            "type": "payment_intent",
            "payment_intent": intent["id"],
            "charge": None,
            "payment_record": None,
        }
        assert charge["payment_intent"] == intent["id"]
        assert intent["metadata"].to_dict() == {}
        assert intent["customer"] == subscribed.subscription.customer
        assert intent["transfer_data"]["destination"] == subscribed.account
        assert "invoice" not in intent.to_dict()
        assert "invoice" not in charge.to_dict()

    async def test_customer_carries_the_email_and_saved_card(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        assert isinstance(subscribed.subscription.customer, str)

        customer = await sandbox.client.v1.customers.retrieve_async(subscribed.subscription.customer)

        assert customer.email == "donor@example.org"
        assert customer.invoice_settings is not None
        assert (
            customer.invoice_settings.default_payment_method == subscribed.subscription.default_payment_method
        )
        assert events_of(sandbox, "customer.created")[0].data.object["id"] == customer.id

    async def test_page_subscribe_redirects_to_success_url(self, sandbox: Sandbox) -> None:
        session = await sandbox.client.v1.checkout.sessions.create_async(subscription_params())
        assert session.url is not None

        response = await sandbox.http.post(
            session.url, data={"action": "pay", "card_number": "4242424242424242"}
        )
        await sandbox.flush()

        assert response.status_code == 303
        assert response.headers["location"] == f"http://127.0.0.1:9/thanks?session={session.id}"
        assert sandbox.captured.types() == FIRST_PAYMENT

    async def test_page_decline_keeps_the_session_open_and_emits_nothing(self, sandbox: Sandbox) -> None:
        session = await sandbox.client.v1.checkout.sessions.create_async(subscription_params())
        assert session.url is not None

        response = await sandbox.http.post(session.url, data={"action": "decline"})
        await sandbox.flush()
        again = await sandbox.client.v1.checkout.sessions.retrieve_async(session.id)

        assert response.status_code == 200
        assert "Your card was declined." in response.text
        assert again.status == "open"
        assert sandbox.captured.types() == []

    @pytest.mark.parametrize("card", ["4000000000000002", "4000000000000341"])
    async def test_a_declining_card_is_a_402_and_creates_nothing(self, sandbox: Sandbox, card: str) -> None:
        session = await sandbox.client.v1.checkout.sessions.create_async(subscription_params())

        response = await sandbox.http.post(
            f"{sandbox.url}/_control/sessions/{session.id}/pay", json={"card_number": card}
        )
        declined = await sandbox.http.post(f"{sandbox.url}/_control/sessions/{session.id}/decline")
        await sandbox.flush()

        assert response.status_code == declined.status_code == 402
        assert response.json()["error"]["code"] == "card_declined"
        assert sandbox.captured.types() == []
        assert not [o for o in sandbox.state.objects.values() if o.get("object") == "subscription"]

    async def test_delayed_payment_is_refused_in_subscription_mode(self, sandbox: Sandbox) -> None:
        session = await sandbox.client.v1.checkout.sessions.create_async(subscription_params())

        response = await sandbox.http.post(f"{sandbox.url}/_control/sessions/{session.id}/pay_delayed")

        assert response.status_code == 400


def _sdk_fields(cls: type) -> set[str]:
    """The fields the pinned SDK declares on a resource (its annotations, all bases)."""
    names: set[str] = set()
    for klass in cls.__mro__:
        names |= set(getattr(klass, "__annotations__", {}))
    return {n for n in names if not n.isupper() and not n.startswith("_")}


class TestShapes:
    async def test_every_field_is_one_the_pinned_sdk_knows(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        sub = subscribed.subscription.to_dict()
        invoice = events_of(sandbox, "invoice.paid")[0].data.object.to_dict()
        portal = await sandbox.client.v1.billing_portal.sessions.create_async({"customer": sub["customer"]})
        shown = {
            stripe.Subscription: sub,
            stripe.SubscriptionItem: sub["items"]["data"][0],
            stripe.Invoice: invoice,
            stripe.InvoiceLineItem: invoice["lines"]["data"][0],
            stripe.InvoicePayment: events_of(sandbox, "invoice_payment.paid")[0].data.object.to_dict(),
            stripe.Customer: events_of(sandbox, "customer.created")[0].data.object.to_dict(),
            stripe.billing_portal.Session: portal.to_dict(),
        }

        unknown = {cls.__name__: sorted(set(obj) - _sdk_fields(cls)) for cls, obj in shown.items()}

        assert unknown == {cls.__name__: [] for cls in shown}


class TestShift:
    @pytest.mark.parametrize(
        ("start", "interval", "count", "end"),
        [
            (datetime(2026, 1, 31, 9, tzinfo=UTC), "month", 1, datetime(2026, 2, 28, 9, tzinfo=UTC)),
            (datetime(2026, 1, 31, 9, tzinfo=UTC), "month", 2, datetime(2026, 3, 31, 9, tzinfo=UTC)),
            (datetime(2024, 2, 29, tzinfo=UTC), "year", 1, datetime(2025, 2, 28, tzinfo=UTC)),
            (datetime(2026, 12, 5, tzinfo=UTC), "month", 1, datetime(2027, 1, 5, tzinfo=UTC)),
            (datetime(2026, 12, 5, tzinfo=UTC), "week", 2, datetime(2026, 12, 19, tzinfo=UTC)),
        ],
    )
    def test_periods_follow_the_calendar_from_the_anchor(
        self, start: datetime, interval: str, count: int, end: datetime
    ) -> None:
        assert shift(int(start.timestamp()), interval, count) == int(end.timestamp())
