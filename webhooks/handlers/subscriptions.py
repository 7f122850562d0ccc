"""Recurring gifts: subscription Checkout Sessions, subscriptions, invoices and invoice payments.

Trust works as for one-off gifts (webhooks.handlers.binding): the subscription becomes ours
only through the `checkout.session.completed` of the session recorded for its first donation
(bound by that id, amount and currency). Until then, an event about the subscription that
names one of our donations in its metadata waits (NotYetKnown, retried: Stripe does not
promise an order); one naming none is someone else's and changes nothing. Events sent by a
connected account (`event.account`) are that account's own business, never our gifts.

The modern API (the pinned SDK's version) links an invoice to its money only through the
invoice payment (`invoice_payment.paid`: invoice -> payment intent): the installment's
donation learns its intent there, and its charge, refunds and disputes then bind to it like
a one-off gift's. A customer's charge whose intent is not linked yet waits for that link
rather than be dropped (`installment_charges_wait`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime
from typing import Any

from campaigns.donations.mismatches import Mismatch, MismatchReason, SeenEvent, record_mismatch
from campaigns.donations.repository import DonationRef, lock_donation
from campaigns.recurring import repository as recurring_repository
from campaigns.recurring import service as recurring
from campaigns.recurring.models import RecurringGift
from service.unit_of_work import UnitOfWork
from webhooks.errors import NotYetKnown
from webhooks.events import StripeEvent, stripe_id
from webhooks.handlers import binding
from webhooks.handlers.common import Handler, T, metadata_donation_id

TYPES = (
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
    "invoice_payment.paid",
)
"""The event types this module handles (webhooks.events.HANDLED_TYPES includes them)."""


def is_subscription_session(obj: dict[str, Any]) -> bool:
    return obj.get("mode") == "subscription"


def _time(value: Any) -> datetime | None:
    return (
        datetime.fromtimestamp(value, UTC) if isinstance(value, int) and not isinstance(value, bool) else None
    )


def _int(obj: dict[str, Any], key: str) -> int:
    value = obj.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# --- Checkout Sessions in subscription mode


async def _start(session: UnitOfWork, event: StripeEvent) -> RecurringGift | None:
    obj = event.obj
    subscription_id = stripe_id(obj.get("subscription"))
    if subscription_id is None or obj.get("status") != "complete":
        return None
    donation = await binding.bind(session, event, binding.session_claim(obj))
    if donation is None:
        return None
    email = _dict(obj.get("customer_details")).get("email")
    return await recurring.start_gift(
        session,
        donation=donation,
        facts_=recurring.SessionFacts(
            subscription_id=subscription_id,
            customer_id=stripe_id(obj.get("customer")),
            invoice_id=stripe_id(obj.get("invoice")),
            donor_email=email if isinstance(email, str) and email else None,
        ),
    )


def session_completed_or(payment_mode: Handler) -> Handler:
    """checkout.session.completed: a subscription session starts the gift; others go on as before.

    The session does not confirm the first donation: its invoice does (invoice.paid), like
    every later installment, so each gift is confirmed by exactly one kind of event."""

    async def run(session: UnitOfWork, event: StripeEvent) -> None:
        if is_subscription_session(event.obj):
            await _start(session, event)
        else:
            await payment_mode(session, event)

    return run


# --- finding the gift an event is about


async def _gift(
    session: UnitOfWork, event: StripeEvent, subscription_id: str | None, metadata: dict[str, Any]
) -> RecurringGift | None:
    if subscription_id is None or event.account is not None:
        return None
    gift = await recurring_repository.lock_gift_by_subscription(session, subscription_id)
    if gift is not None:
        return gift
    claimed = metadata_donation_id({"metadata": metadata})
    if claimed is not None and await lock_donation(session, DonationRef(donation_id=claimed)) is not None:
        raise NotYetKnown(f"{subscription_id} is not linked yet: its checkout session has not completed here")
    return None


def _subscription_of_invoice(obj: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """The invoice's subscription and the metadata Stripe copied from it (modern shape: parent)."""
    details = _dict(_dict(obj.get("parent")).get("subscription_details"))
    subscription_id = stripe_id(details.get("subscription")) or stripe_id(obj.get("subscription"))
    if subscription_id is None:
        lines = _dict(obj.get("lines")).get("data")
        for line in lines if isinstance(lines, list) else []:
            subscription_id = stripe_id(_dict(line).get("subscription"))
            if subscription_id:
                break
    # Before Stripe's 2025 "basil" version the invoice carried subscription_details at the top.
    return subscription_id, _dict(details.get("metadata")) or _dict(
        _dict(obj.get("subscription_details")).get("metadata")
    )


def invoice_facts(obj: dict[str, Any], subscription_id: str) -> recurring.InvoiceFacts:
    email = obj.get("customer_email")
    currency = obj.get("currency")
    return recurring.InvoiceFacts(
        invoice_id=str(obj["id"]),
        subscription_id=subscription_id,
        billing_reason=obj.get("billing_reason") if isinstance(obj.get("billing_reason"), str) else None,
        amount_paid_minor=_int(obj, "amount_paid"),
        amount_due_minor=_int(obj, "amount_due"),
        currency=currency if isinstance(currency, str) else "",
        attempt_count=_int(obj, "attempt_count"),
        next_payment_attempt=_time(obj.get("next_payment_attempt")),
        customer_email=email if isinstance(email, str) and email else None,
    )


async def _invoice_gift(
    session: UnitOfWork, event: StripeEvent
) -> tuple[RecurringGift, recurring.InvoiceFacts] | None:
    if stripe_id(event.obj.get("id")) is None:
        return None
    subscription_id, metadata = _subscription_of_invoice(event.obj)
    gift = await _gift(session, event, subscription_id, metadata)
    if gift is None or subscription_id is None:
        return None
    return gift, invoice_facts(event.obj, subscription_id)


# --- invoices


async def invoice_paid(session: UnitOfWork, event: StripeEvent) -> None:
    found = await _invoice_gift(session, event)
    if found is None:
        return
    gift, invoice = found
    if invoice.currency != gift.currency:
        await _mismatch(session, event, gift, MismatchReason.WRONG_CURRENCY, f"paid in {invoice.currency}")
        return
    donation = await recurring.record_paid_invoice(session, gift=gift, invoice=invoice)
    if donation is None:
        detail = f"{invoice.invoice_id} paid {invoice.amount_paid_minor}, not this installment's amount"
        await _mismatch(session, event, gift, MismatchReason.WRONG_AMOUNT, detail)


async def invoice_payment_failed(session: UnitOfWork, event: StripeEvent) -> None:
    found = await _invoice_gift(session, event)
    if found is not None:
        gift, invoice = found
        await recurring.record_failed_invoice(session, gift=gift, invoice=invoice)


async def invoice_payment_paid(session: UnitOfWork, event: StripeEvent) -> None:
    """invoice_payment.paid: which intent paid which installment (see the module docstring)."""
    obj = event.obj
    invoice_id = stripe_id(obj.get("invoice"))
    if invoice_id is None or event.account is not None or obj.get("status") not in (None, "paid"):
        return
    payment = _dict(obj.get("payment"))
    donation = await recurring.link_invoice_payment(
        session,
        invoice_id=invoice_id,
        payment_intent_id=stripe_id(payment.get("payment_intent")),
        charge_id=stripe_id(payment.get("charge")),
    )
    if donation is None:
        # Stripe sends the invoice payment before invoice.paid makes the installment: wait for it.
        raise NotYetKnown(f"the installment of {invoice_id} is not known yet")


# --- subscriptions


def subscription_facts(obj: dict[str, Any], *, at: datetime) -> recurring.SubscriptionFacts:
    items = _dict(obj.get("items")).get("data")
    item = _dict(items[0]) if isinstance(items, list) and items else {}
    price = _dict(item.get("price"))
    amount = price.get("unit_amount")
    reason = _dict(obj.get("cancellation_details")).get("reason")
    return recurring.SubscriptionFacts(
        subscription_id=str(obj["id"]),
        customer_id=stripe_id(obj.get("customer")),
        status=str(obj.get("status") or ""),
        cancel_at_period_end=obj.get("cancel_at_period_end") is True,
        cancel_at=_time(obj.get("cancel_at")),
        canceled_at=_time(obj.get("canceled_at")),
        ended_at=_time(obj.get("ended_at")),
        current_period_end=_time(item.get("current_period_end")) or _time(obj.get("current_period_end")),
        unit_amount_minor=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
        cancellation_reason=reason if isinstance(reason, str) else None,
        stripe_time=at,
    )


async def subscription_changed(session: UnitOfWork, event: StripeEvent) -> None:
    """customer.subscription.created / updated / deleted: the subscription's absolute state."""
    subscription_id = stripe_id(event.obj.get("id"))
    gift = await _gift(session, event, subscription_id, _dict(event.obj.get("metadata")))
    if gift is not None:
        await recurring.apply_subscription(
            session, gift=gift, sub=subscription_facts(event.obj, at=event.created_at)
        )


# --- charges of installments


def installment_charges_wait(handler: Handler) -> Handler:
    """A platform charge of a Stripe customer whose intent no donation has yet is an installment
    whose invoice payment has not arrived: wait for it (its card facts and fee belong to it).

    Goodloop makes customers only through subscription Checkout, and one-off gifts' charges
    carry our metadata, so nothing else waits here; a charge that never links ends as a dead
    letter after the inbox's retries, where ops see it."""

    async def run(session: UnitOfWork, event: StripeEvent) -> None:
        obj = event.obj
        customer, intent = stripe_id(obj.get("customer")), stripe_id(obj.get("payment_intent"))
        if customer and intent and event.account is None and metadata_donation_id(obj) is None:
            ref = DonationRef(payment_intent_id=intent, charge_id=stripe_id(obj.get("id")))
            if await lock_donation(session, ref) is None:
                raise NotYetKnown(f"{intent} of a customer's charge is not linked to an installment yet")
        await handler(session, event)

    return run


# --- a batch's links first (webhooks.handlers.registry.link_sessions_first)


async def link_first(session: UnitOfWork, events: Sequence[StripeEvent]) -> None:
    """Before a batch's handlers run: start its gifts, make its installments, link their intents.

    Stripe sends an installment's charge before the invoice events that tie it to the gift;
    done first, the charge binds in the same batch and its card facts are in place when
    invoice.paid confirms the donation (as matching expects). Each step is idempotent: the
    handlers run the full use case again in order.
    """
    for event in events:
        if event.type == "checkout.session.completed" and is_subscription_session(event.obj):
            await _quietly(_start(session, event))
    for event in events:
        if event.type == "invoice.paid":
            found = await _quietly(_invoice_gift(session, event))
            if found is not None:
                await recurring.ensure_installment(session, gift=found[0], invoice=found[1])
    for event in events:
        if event.type == "invoice_payment.paid":
            await _quietly(invoice_payment_paid(session, event))


async def _quietly(step: Awaitable[T]) -> T | None:
    try:
        return await step
    except NotYetKnown:
        return None  # its own handler run says so


async def _mismatch(
    session: UnitOfWork, event: StripeEvent, gift: RecurringGift, reason: MismatchReason, detail: str
) -> None:
    seen = SeenEvent(
        stripe_event_id=event.id,
        event_type=event.type,
        stripe_account_id=event.account,
        stripe_object_id=stripe_id(event.obj.get("id")),
        claimed_donation_id=gift.first_donation_id,
    )
    await record_mismatch(
        session, event=seen, mismatch=Mismatch(reason, detail, donation_id=gift.first_donation_id)
    )
