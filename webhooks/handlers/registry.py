"""Which handler runs for which event type."""

from __future__ import annotations

from collections.abc import Sequence

from campaigns.payouts.causes import naming_cause
from service.unit_of_work import UnitOfWork
from webhooks.events import StripeEvent, stripe_id
from webhooks.handlers import charges, checkout, connect, disputes, subscriptions
from webhooks.handlers.common import Handler


def _names_clawbacks(handler: Handler) -> Handler:
    """A refund or dispute applied here names the transfer reversals it causes (their idempotency key)."""

    async def run(session: UnitOfWork, event: StripeEvent) -> None:
        with naming_cause(session, stripe_id(event.obj.get("id"))):
            await handler(session, event)

    return run


HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": subscriptions.session_completed_or(checkout.session_completed),
    "checkout.session.async_payment_succeeded": checkout.session_async_succeeded,
    "checkout.session.async_payment_failed": checkout.session_async_failed,
    "checkout.session.expired": checkout.session_expired,
    "payment_intent.succeeded": checkout.payment_intent_succeeded,
    "payment_intent.payment_failed": checkout.payment_intent_failed,
    "charge.succeeded": subscriptions.installment_charges_wait(charges.charge_succeeded),
    "charge.refunded": charges.charge_refunded,
    "refund.created": _names_clawbacks(charges.refund_changed),
    "refund.updated": _names_clawbacks(charges.refund_changed),
    "refund.failed": _names_clawbacks(charges.refund_changed),
    "charge.dispute.created": _names_clawbacks(disputes.dispute_changed),
    "charge.dispute.updated": _names_clawbacks(disputes.dispute_changed),
    "charge.dispute.closed": _names_clawbacks(disputes.dispute_changed),
    "charge.dispute.funds_withdrawn": _names_clawbacks(disputes.dispute_changed),
    "charge.dispute.funds_reinstated": _names_clawbacks(disputes.dispute_changed),
    "radar.early_fraud_warning.created": charges.early_fraud_warning,
    "account.updated": connect.account_updated,
    "transfer.created": connect.transfer_changed,
    "transfer.updated": connect.transfer_changed,
    "transfer.reversed": connect.transfer_changed,
    "customer.subscription.created": subscriptions.subscription_changed,
    "customer.subscription.updated": subscriptions.subscription_changed,
    "customer.subscription.deleted": subscriptions.subscription_changed,
    "invoice.paid": subscriptions.invoice_paid,
    "invoice.payment_failed": subscriptions.invoice_payment_failed,
    "invoice_payment.paid": subscriptions.invoice_payment_paid,
}


def handling_order(event_type: str) -> int:
    """Where an event goes within a batch (a stable sort: the rest keeps its order).

    Checkout Session events first: they link the intent that the same payment's intent and
    charge events are bound by, and Stripe usually sends those before the session's. Then a
    recurring gift's paid invoices (they make the installment) and invoice payments (they link
    its intent), for the same reason (webhooks/handlers/subscriptions.py).
    """
    if event_type.startswith("checkout.session."):
        return 0
    return _RECURRING_ORDER.get(event_type, 3)


_RECURRING_ORDER = {"invoice.paid": 1, "invoice_payment.paid": 2}


async def link_sessions_first(session: UnitOfWork, events: Sequence[StripeEvent]) -> None:
    """Before a batch's handlers run, link the intents its Checkout Session events name.

    Stripe sends a card payment's charge before the session event that links its intent:
    linked first, the charge binds in the same batch, in the order it came, and its card
    facts are recorded before the session confirms the donation (as matching expects).
    """
    for event in events:
        if event.type.startswith("checkout.session.") and isinstance(event.obj, dict):
            await checkout.link_session(session, event)
    await subscriptions.link_first(session, events)
