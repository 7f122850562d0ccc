"""Checkout Sessions and Payment Intents: the donation is paid, pending a delayed method, or failed.

Each object is first bound to its donation (webhooks.handlers.binding): only the session
recorded at checkout, or the intent its session event linked, for the same amount, currency
and account, moves a donation; anything else is recorded as a payment mismatch.
"""

from __future__ import annotations

from typing import Any

from campaigns.donations import settlement
from service.unit_of_work import UnitOfWork
from webhooks.errors import NotYetKnown
from webhooks.events import StripeEvent, stripe_id
from webhooks.handlers import binding
from webhooks.handlers.binding import Unlinked

PAID_STATUSES = frozenset({"paid", "no_payment_required"})


def _email(obj: dict[str, Any]) -> str | None:
    details = obj.get("customer_details")
    email = details.get("email") if isinstance(details, dict) else None
    return email if isinstance(email, str) and email else None


async def link_session(session: UnitOfWork, event: StripeEvent) -> None:
    """Link the intent of a session event that binds, and nothing else (see link_sessions_first)."""
    intent_id = stripe_id(event.obj.get("payment_intent"))
    if intent_id is None:
        return
    try:
        donation = await binding.bind(session, event, binding.session_claim(event.obj))
    except NotYetKnown:
        return  # its own handler run says so
    if donation is not None:
        await settlement.link_payment_intent(session, ref=binding.ref(donation), payment_intent_id=intent_id)


async def session_completed(session: UnitOfWork, event: StripeEvent) -> None:
    donation = await binding.bind(session, event, binding.session_claim(event.obj))
    if donation is None:
        return
    intent_id = stripe_id(event.obj.get("payment_intent"))
    if event.obj.get("payment_status") in PAID_STATUSES:
        await settlement.confirm_donation(
            session, ref=binding.ref(donation), payment_intent_id=intent_id, donor_email=_email(event.obj)
        )
    else:
        # Delayed methods (SEPA, bank debits) complete checkout unpaid; async_payment_* follows.
        await settlement.mark_processing(
            session, ref=binding.ref(donation), payment_intent_id=intent_id, donor_email=_email(event.obj)
        )


async def session_async_succeeded(session: UnitOfWork, event: StripeEvent) -> None:
    donation = await binding.bind(session, event, binding.session_claim(event.obj))
    if donation is not None:
        await settlement.confirm_donation(
            session,
            ref=binding.ref(donation),
            payment_intent_id=stripe_id(event.obj.get("payment_intent")),
            donor_email=_email(event.obj),
        )


async def session_async_failed(session: UnitOfWork, event: StripeEvent) -> None:
    donation = await binding.bind(session, event, binding.session_claim(event.obj))
    if donation is not None:
        await settlement.fail_donation(
            session, ref=binding.ref(donation), payment_intent_id=stripe_id(event.obj.get("payment_intent"))
        )


async def session_expired(session: UnitOfWork, event: StripeEvent) -> None:
    donation = await binding.bind(session, event, binding.session_claim(event.obj))
    if donation is not None:
        # An expired session still names the intent of a declined attempt: linking it lets
        # that intent's own failure event be bound (and change nothing) instead of waiting.
        await settlement.expire_donation(
            session, ref=binding.ref(donation), payment_intent_id=stripe_id(event.obj.get("payment_intent"))
        )


async def payment_intent_succeeded(session: UnitOfWork, event: StripeEvent) -> None:
    donation = await binding.bind(session, event, binding.payment_intent_claim(event.obj))
    if donation is not None:
        await settlement.confirm_donation(
            session, ref=binding.ref(donation), payment_intent_id=stripe_id(event.obj.get("id"))
        )


async def payment_intent_failed(session: UnitOfWork, event: StripeEvent) -> None:
    # A declined card leaves the session open for another try, so an intent's failure before
    # its session linked it tells us nothing the session's own events will not (SKIP).
    claim = binding.payment_intent_claim(event.obj, unlinked=Unlinked.SKIP)
    donation = await binding.bind(session, event, claim)
    if donation is not None:
        await settlement.fail_donation(
            session, ref=binding.ref(donation), payment_intent_id=stripe_id(event.obj.get("id"))
        )
