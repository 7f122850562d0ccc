"""Subscription, Invoice, InvoicePayment and Customer endpoints through the real SDK."""

from __future__ import annotations

import pytest
import stripe

from tests.service.stripe_sandbox.conftest import Sandbox
from tests.service.stripe_sandbox.recurring import Subscribed, events_of, subscribe, types_since


def _amount_change(subscribed: Subscribed, unit_amount: int) -> dict[str, object]:
    item = subscribed.subscription["items"]["data"][0]
    return {
        "items": [
            {
                "id": item["id"],
                "price_data": {
                    "currency": "eur",
                    "unit_amount": unit_amount,
                    "product": item["price"]["product"],
                    "recurring": {"interval": "month"},
                },
            }
        ],
        "proration_behavior": "none",
    }


class TestModify:
    async def test_a_new_amount_is_charged_from_the_next_renewal(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        start = len(sandbox.captured.platform)

        changed = await sandbox.client.v1.subscriptions.update_async(
            subscribed.subscription.id, _amount_change(subscribed, 2_500)
        )
        await sandbox.control(f"subscriptions/{changed.id}/renew")
        await sandbox.flush()

        assert changed["items"]["data"][0]["price"]["unit_amount"] == 2_500
        assert changed["items"]["data"][0]["id"] == subscribed.subscription["items"]["data"][0]["id"]
        updated = sandbox.captured.platform[start]
        assert updated.type == "customer.subscription.updated"
        assert updated.data.previous_attributes is not None
        assert updated.data.previous_attributes["items"]["data"][0]["price"]["unit_amount"] == 1_000
        assert events_of(sandbox, "invoice.paid")[-1].data.object["amount_paid"] == 2_500
        assert events_of(sandbox, "charge.succeeded")[-1].data.object["amount"] == 2_500

    async def test_the_modify_event_names_its_request_and_idempotency_key(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        options: stripe.RequestOptions = {"idempotency_key": "recurring:1:amount:2500"}

        first = await sandbox.client.v1.subscriptions.update_async(
            subscribed.subscription.id, _amount_change(subscribed, 2_500), options=options
        )
        again = await sandbox.client.v1.subscriptions.update_async(
            subscribed.subscription.id, _amount_change(subscribed, 2_500), options=options
        )
        await sandbox.flush()

        updates = events_of(sandbox, "customer.subscription.updated")
        assert len(updates) == 1
        assert updates[0].request is not None
        assert updates[0].request.idempotency_key == "recurring:1:amount:2500"
        assert again["items"]["data"][0]["price"]["id"] == first["items"]["data"][0]["price"]["id"]
        with pytest.raises(stripe.IdempotencyError):
            await sandbox.client.v1.subscriptions.update_async(
                subscribed.subscription.id, _amount_change(subscribed, 3_000), options=options
            )

    async def test_another_product_is_refused(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        params = _amount_change(subscribed, 2_500)
        params["items"][0]["price_data"]["product"] = "prod_other"  # type: ignore[index]

        with pytest.raises(stripe.InvalidRequestError):
            await sandbox.client.v1.subscriptions.update_async(subscribed.subscription.id, params)

    async def test_an_unknown_item_is_refused(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        params = _amount_change(subscribed, 2_500)
        params["items"][0]["id"] = "si_nope"  # type: ignore[index]

        with pytest.raises(stripe.InvalidRequestError) as error:
            await sandbox.client.v1.subscriptions.update_async(subscribed.subscription.id, params)

        assert error.value.param == "items[0][id]"

    async def test_cancel_at_period_end_and_back(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        sub_id = subscribed.subscription.id
        period_end = subscribed.subscription["items"]["data"][0]["current_period_end"]

        cancelling = await sandbox.client.v1.subscriptions.update_async(
            sub_id, {"cancel_at_period_end": True}
        )
        kept = await sandbox.client.v1.subscriptions.update_async(sub_id, {"cancel_at_period_end": False})
        await sandbox.flush()

        assert cancelling.cancel_at_period_end is True
        assert cancelling.cancel_at == period_end
        assert cancelling.status == "active"
        assert cancelling.cancellation_details is not None
        assert cancelling.cancellation_details.reason == "cancellation_requested"
        assert kept.cancel_at_period_end is False
        assert kept.cancel_at is None
        updates = events_of(sandbox, "customer.subscription.updated")
        assert [u.data.object["cancel_at_period_end"] for u in updates] == [True, False]
        assert updates[0].data.previous_attributes is not None
        assert updates[0].data.previous_attributes["cancel_at_period_end"] is False

    async def test_metadata_merges_and_an_empty_value_deletes(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)

        sub = await sandbox.client.v1.subscriptions.update_async(
            subscribed.subscription.id, {"metadata": {"campaign": "", "note": "x"}}
        )

        assert sub.to_dict()["metadata"] == {"recurring_gift_id": "rg_1", "note": "x"}

    async def test_a_canceled_subscription_cannot_change_its_amount(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        await sandbox.client.v1.subscriptions.cancel_async(subscribed.subscription.id)

        with pytest.raises(stripe.InvalidRequestError) as error:
            await sandbox.client.v1.subscriptions.update_async(
                subscribed.subscription.id, _amount_change(subscribed, 2_500)
            )

        assert "canceled subscription" in str(error.value.user_message)


class TestCancel:
    async def test_cancel_ends_now_with_one_deleted_event(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        start = len(sandbox.captured.platform)

        sub = await sandbox.client.v1.subscriptions.cancel_async(
            subscribed.subscription.id, {"cancellation_details": {"comment": "Moving abroad"}}
        )
        await sandbox.flush()

        assert sub.status == "canceled"
        assert sub.ended_at is not None
        assert sub.canceled_at is not None
        assert sub.cancellation_details is not None
        assert sub.cancellation_details.reason == "cancellation_requested"
        assert sub.cancellation_details.comment == "Moving abroad"
        assert types_since(sandbox, start) == ["customer.subscription.deleted"]

    async def test_cancelling_twice_is_an_error_and_emits_nothing_more(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        await sandbox.client.v1.subscriptions.cancel_async(subscribed.subscription.id)

        with pytest.raises(stripe.InvalidRequestError):
            await sandbox.client.v1.subscriptions.cancel_async(subscribed.subscription.id)
        await sandbox.flush()

        assert len(events_of(sandbox, "customer.subscription.deleted")) == 1


class TestReads:
    async def test_invoice_expands_its_payments(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        invoice_id = str(subscribed.subscription.latest_invoice)

        plain = await sandbox.client.v1.invoices.retrieve_async(invoice_id)
        expanded = await sandbox.client.v1.invoices.retrieve_async(invoice_id, {"expand": ["payments"]})

        assert "payments" not in plain.to_dict()
        assert expanded.payments is not None
        payment = expanded.payments.data[0]
        assert payment.invoice == invoice_id
        assert payment.payment.type == "payment_intent"
        assert payment.status == "paid"

    async def test_invoices_list_by_subscription_newest_first(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        other = await subscribe(sandbox)
        await sandbox.control(f"subscriptions/{subscribed.subscription.id}/renew")

        listed = await sandbox.client.v1.invoices.list_async({"subscription": subscribed.subscription.id})

        reasons = [i.billing_reason for i in listed.data]
        assert reasons == ["subscription_cycle", "subscription_create"]
        assert other.subscription.latest_invoice not in [i.id for i in listed.data]

    async def test_invoice_payments_list_by_invoice(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        invoice_id = str(subscribed.subscription.latest_invoice)

        listed = await sandbox.client.v1.invoice_payments.list_async({"invoice": invoice_id})
        one = await sandbox.client.v1.invoice_payments.retrieve_async(listed.data[0].id)

        assert [p.invoice for p in listed.data] == [invoice_id]
        assert one.amount_paid == 1_000

    async def test_subscriptions_list_by_customer_hides_canceled_unless_asked(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        customer = str(subscribed.subscription.customer)
        await sandbox.client.v1.subscriptions.cancel_async(subscribed.subscription.id)

        live = await sandbox.client.v1.subscriptions.list_async({"customer": customer})
        every = await sandbox.client.v1.subscriptions.list_async({"customer": customer, "status": "all"})

        assert live.data == []
        assert [s.id for s in every.data] == [subscribed.subscription.id]

    async def test_unknown_ids_are_resource_missing(self, sandbox: Sandbox) -> None:
        with pytest.raises(stripe.InvalidRequestError) as error:
            await sandbox.client.v1.subscriptions.retrieve_async("sub_nope")

        assert error.value.code == "resource_missing"
        assert "No such subscription: 'sub_nope'" in str(error.value.user_message)
