"""Renewals on demand: paid, declined then recovered, retries running out, refunds of one."""

from __future__ import annotations

import pytest
import stripe

from tests.service.stripe_sandbox.conftest import Sandbox
from tests.service.stripe_sandbox.recurring import Subscribed, events_of, subscribe, types_since

PAID_RENEWAL = [
    "invoice.created",
    "customer.subscription.updated",
    "invoice.finalized",
    "charge.succeeded",
    "payment_intent.succeeded",
    "invoice_payment.paid",
    "invoice.paid",
    "invoice.payment_succeeded",
]
FAILED_ATTEMPT = ["charge.failed", "payment_intent.payment_failed", "invoice.payment_failed"]
PAID_ATTEMPT = [
    "charge.succeeded",
    "payment_intent.succeeded",
    "invoice_payment.paid",
    "invoice.paid",
    "invoice.payment_succeeded",
]


async def _renew(sandbox: Sandbox, subscribed: Subscribed, outcome: str = "succeed") -> dict[str, object]:
    result = await sandbox.control(f"subscriptions/{subscribed.subscription.id}/renew", {"outcome": outcome})
    await sandbox.flush()
    return result


async def _failed_renewal(sandbox: Sandbox) -> tuple[Subscribed, str]:
    subscribed = await subscribe(sandbox)
    await _renew(sandbox, subscribed, "fail")
    invoice = events_of(sandbox, "invoice.payment_failed")[-1].data.object
    return subscribed, invoice["id"]


class TestRenewal:
    async def test_paid_renewal_emits_the_invoice_family_in_order(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        start = len(sandbox.captured.platform)

        await _renew(sandbox, subscribed)

        assert types_since(sandbox, start) == PAID_RENEWAL
        assert sandbox.captured.rejected == []

    async def test_renewal_moves_the_period_and_bills_the_new_one(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        first = subscribed.subscription["items"]["data"][0]

        await _renew(sandbox, subscribed)
        sub = await sandbox.client.v1.subscriptions.retrieve_async(subscribed.subscription.id)

        item = sub["items"]["data"][0]
        invoice = events_of(sandbox, "invoice.paid")[-1].data.object
        assert item["current_period_start"] == first["current_period_end"]
        assert item["current_period_end"] > item["current_period_start"]
        assert invoice["billing_reason"] == "subscription_cycle"
        assert invoice["id"] == sub.latest_invoice
        assert invoice["lines"]["data"][0]["period"]["start"] == item["current_period_start"]
        assert invoice["lines"]["data"][0]["period"]["end"] == item["current_period_end"]
        assert invoice["parent"]["subscription_details"]["subscription"] == sub.id

    async def test_each_installment_has_its_own_invoice_intent_and_charge(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)

        await _renew(sandbox, subscribed)
        await _renew(sandbox, subscribed)

        invoices = [e.data.object["id"] for e in events_of(sandbox, "invoice.paid")]
        links = events_of(sandbox, "invoice_payment.paid")
        intents = {e.data.object["payment"]["payment_intent"] for e in links}
        charges = {e.data.object["payment_intent"] for e in events_of(sandbox, "charge.succeeded")}
        numbers = [e.data.object["number"] for e in events_of(sandbox, "invoice.paid")]
        assert len(set(invoices)) == 3
        assert [e.data.object["invoice"] for e in links] == invoices
        assert len(intents) == 3
        assert charges == intents
        assert [n.rsplit("-", 1)[1] for n in numbers] == ["0001", "0002", "0003"]

    async def test_renewal_of_a_subscription_set_to_cancel_ends_it(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        await sandbox.client.v1.subscriptions.update_async(
            subscribed.subscription.id, {"cancel_at_period_end": True}
        )
        await sandbox.flush()
        start = len(sandbox.captured.platform)

        await _renew(sandbox, subscribed)

        assert types_since(sandbox, start) == ["customer.subscription.deleted"]
        ended = events_of(sandbox, "customer.subscription.deleted")[0].data.object
        assert ended["status"] == "canceled"
        assert ended["ended_at"] is not None
        assert ended["cancellation_details"]["reason"] == "cancellation_requested"

    async def test_a_canceled_subscription_does_not_renew(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        await sandbox.client.v1.subscriptions.cancel_async(subscribed.subscription.id)

        response = await sandbox.http.post(
            f"{sandbox.url}/_control/subscriptions/{subscribed.subscription.id}/renew", json={}
        )

        assert response.status_code == 400
        assert "canceled" in response.json()["error"]["message"]


class TestFailedRenewal:
    async def test_decline_leaves_the_invoice_open_and_the_subscription_past_due(
        self, sandbox: Sandbox
    ) -> None:
        subscribed = await subscribe(sandbox)
        start = len(sandbox.captured.platform)

        await _renew(sandbox, subscribed, "fail")

        assert types_since(sandbox, start) == [
            "invoice.created",
            "customer.subscription.updated",
            "invoice.finalized",
            *FAILED_ATTEMPT,
            "customer.subscription.updated",
        ]
        failed = events_of(sandbox, "invoice.payment_failed")[0].data.object
        assert failed["status"] == "open"
        assert failed["attempt_count"] == 1
        assert failed["attempted"] is True
        assert failed["next_payment_attempt"] > failed["created"]
        assert failed["hosted_invoice_url"] == f"{sandbox.url}/invoices/{failed['id']}"
        past_due = sandbox.captured.platform[-1]
        assert past_due.data.object["status"] == "past_due"
        assert past_due.data.previous_attributes is not None
        assert past_due.data.previous_attributes["status"] == "active"

    async def test_a_successful_retry_pays_it_and_reactivates(self, sandbox: Sandbox) -> None:
        _, invoice_id = await _failed_renewal(sandbox)
        start = len(sandbox.captured.platform)

        await sandbox.control(f"invoices/{invoice_id}/retry", {"outcome": "succeed"})
        await sandbox.flush()

        assert types_since(sandbox, start) == [*PAID_ATTEMPT, "customer.subscription.updated"]
        paid = events_of(sandbox, "invoice.paid")[-1].data.object
        assert paid["id"] == invoice_id
        assert paid["attempt_count"] == 2
        assert paid["next_payment_attempt"] is None
        assert sandbox.captured.platform[-1].data.object["status"] == "active"
        failed_charge = events_of(sandbox, "charge.failed")[0].data.object
        paid_charge = events_of(sandbox, "charge.succeeded")[-1].data.object
        assert failed_charge["payment_intent"] == paid_charge["payment_intent"]
        assert failed_charge["id"] != paid_charge["id"]

    async def test_a_failed_retry_counts_the_attempt(self, sandbox: Sandbox) -> None:
        _, invoice_id = await _failed_renewal(sandbox)
        start = len(sandbox.captured.platform)

        await sandbox.control(f"invoices/{invoice_id}/retry", {"outcome": "fail"})
        await sandbox.flush()

        assert types_since(sandbox, start) == FAILED_ATTEMPT
        assert events_of(sandbox, "invoice.payment_failed")[-1].data.object["attempt_count"] == 2

    async def test_the_donor_pays_on_the_hosted_invoice_page(self, sandbox: Sandbox) -> None:
        subscribed, _ = await _failed_renewal(sandbox)
        url = events_of(sandbox, "invoice.payment_failed")[-1].data.object["hosted_invoice_url"]
        page = await sandbox.http.get(url)
        start = len(sandbox.captured.platform)

        response = await sandbox.http.post(url, data={"card_number": "5555 5555 5555 4444"})
        await sandbox.flush()
        customer = await sandbox.client.v1.customers.retrieve_async(str(subscribed.subscription.customer))

        assert page.status_code == 200
        assert "€10.00 due" in page.text
        assert response.status_code == 303
        assert types_since(sandbox, start) == [*PAID_ATTEMPT, "customer.subscription.updated"]
        assert (
            events_of(sandbox, "charge.succeeded")[-1].data.object["payment_method_details"]["card"]["last4"]
            == "4444"
        )
        assert customer.invoice_settings is not None
        pm = customer.invoice_settings.default_payment_method
        assert isinstance(pm, str)
        method = await sandbox.client.v1.payment_methods.retrieve_async(pm)
        assert method.card is not None
        assert method.card.last4 == "4444"
        paid_page = await sandbox.http.get(response.headers["location"])
        assert "€10.00 paid" in paid_page.text

    async def test_a_declining_card_on_the_hosted_page_changes_nothing_else(self, sandbox: Sandbox) -> None:
        _, invoice_id = await _failed_renewal(sandbox)
        start = len(sandbox.captured.platform)

        response = await sandbox.http.post(
            f"{sandbox.url}/invoices/{invoice_id}", data={"card_number": "4000000000000002"}
        )
        await sandbox.flush()

        assert response.status_code == 200
        assert "declined" in response.text
        assert types_since(sandbox, start) == FAILED_ATTEMPT
        invoice = await sandbox.client.v1.invoices.retrieve_async(invoice_id)
        assert invoice.status == "open"

    async def test_a_card_that_saves_but_fails_makes_the_next_renewal_fail(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        portal = await sandbox.client.v1.billing_portal.sessions.create_async(
            {"customer": str(subscribed.subscription.customer), "return_url": "http://127.0.0.1:9/donor"}
        )
        await sandbox.http.post(portal.url, data={"action": "update_card", "card_number": "4000000000000341"})
        start = len(sandbox.captured.platform)

        await _renew(sandbox, subscribed)

        assert "invoice.payment_failed" in types_since(sandbox, start)
        assert "invoice.paid" not in types_since(sandbox, start)


class TestRetriesRunOut:
    async def test_cancel_marks_uncollectible_and_deletes_the_subscription(self, sandbox: Sandbox) -> None:
        subscribed, invoice_id = await _failed_renewal(sandbox)
        start = len(sandbox.captured.platform)

        await sandbox.control(
            f"subscriptions/{subscribed.subscription.id}/exhaust_retries", {"then": "cancel"}
        )
        await sandbox.flush()

        assert types_since(sandbox, start) == [
            *FAILED_ATTEMPT,
            *FAILED_ATTEMPT,
            *FAILED_ATTEMPT,
            "invoice.marked_uncollectible",
            "customer.subscription.deleted",
        ]
        last = events_of(sandbox, "invoice.payment_failed")[-1].data.object
        assert last["attempt_count"] == 4
        assert last["next_payment_attempt"] is None
        deleted = events_of(sandbox, "customer.subscription.deleted")[0].data.object
        assert deleted["status"] == "canceled"
        assert deleted["cancellation_details"]["reason"] == "payment_failed"
        invoice = await sandbox.client.v1.invoices.retrieve_async(invoice_id)
        assert invoice.status == "uncollectible"

    async def test_unpaid_keeps_the_invoice_open(self, sandbox: Sandbox) -> None:
        subscribed, invoice_id = await _failed_renewal(sandbox)

        await sandbox.control(
            f"subscriptions/{subscribed.subscription.id}/exhaust_retries", {"then": "unpaid"}
        )
        await sandbox.flush()

        updated = sandbox.captured.platform[-1]
        assert updated.type == "customer.subscription.updated"
        assert updated.data.object["status"] == "unpaid"
        invoice = await sandbox.client.v1.invoices.retrieve_async(invoice_id)
        assert invoice.status == "open"
        assert invoice.next_payment_attempt is None

    async def test_paying_after_unpaid_reactivates(self, sandbox: Sandbox) -> None:
        subscribed, invoice_id = await _failed_renewal(sandbox)
        await sandbox.control(
            f"subscriptions/{subscribed.subscription.id}/exhaust_retries", {"then": "unpaid"}
        )

        await sandbox.control(f"invoices/{invoice_id}/pay", {"card_number": "4242424242424242"})
        await sandbox.flush()

        sub = await sandbox.client.v1.subscriptions.retrieve_async(subscribed.subscription.id)
        assert sub.status == "active"

    async def test_nothing_to_exhaust_on_a_paid_subscription_is_an_error(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)

        response = await sandbox.http.post(
            f"{sandbox.url}/_control/subscriptions/{subscribed.subscription.id}/exhaust_retries", json={}
        )

        assert response.status_code == 400

    async def test_an_unknown_then_is_refused(self, sandbox: Sandbox) -> None:
        subscribed, _ = await _failed_renewal(sandbox)

        response = await sandbox.http.post(
            f"{sandbox.url}/_control/subscriptions/{subscribed.subscription.id}/exhaust_retries",
            json={"then": "shrug"},
        )

        assert response.status_code == 400
        assert response.json()["error"]["param"] == "then"


class TestInstallmentRefund:
    async def test_refunding_one_installment_refunds_only_its_charge(self, sandbox: Sandbox) -> None:
        subscribed = await subscribe(sandbox)
        await _renew(sandbox, subscribed)
        second = events_of(sandbox, "invoice_payment.paid")[-1].data.object["payment"]["payment_intent"]
        start = len(sandbox.captured.platform)

        refund = await sandbox.client.v1.refunds.create_async({"payment_intent": second})
        await sandbox.flush()

        assert types_since(sandbox, start) == ["charge.refunded", "refund.created"]
        refunded = events_of(sandbox, "charge.refunded")[0].data.object
        assert refunded["payment_intent"] == second
        assert refunded["refunded"] is True
        assert refund.amount == 1_000
        first = events_of(sandbox, "invoice_payment.paid")[0].data.object["payment"]["payment_intent"]
        intent = await sandbox.client.v1.payment_intents.retrieve_async(first, {"expand": ["latest_charge"]})
        assert isinstance(intent.latest_charge, stripe.Charge)
        assert intent.latest_charge.refunded is False

    @pytest.mark.parametrize("amount", [1, 999])
    async def test_a_partial_refund_of_an_installment(self, sandbox: Sandbox, amount: int) -> None:
        await subscribe(sandbox)
        charge = events_of(sandbox, "charge.succeeded")[0].data.object["id"]

        await sandbox.client.v1.refunds.create_async({"charge": charge, "amount": amount})
        await sandbox.flush()

        refunded = events_of(sandbox, "charge.refunded")[0].data.object
        assert refunded["amount_refunded"] == amount
        assert refunded["refunded"] is False
