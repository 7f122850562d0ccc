"""Checkout Sessions and Payment Intents: the donation is paid, pending a delayed method, or failed."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.donations import settlement
from webhooks.events import StripeEvent, stripe_id
from webhooks.handlers.common import payment_intent_ref, require, session_ref

PAID_STATUSES = frozenset({"paid", "no_payment_required"})


def _email(obj: dict[str, Any]) -> str | None:
    details = obj.get("customer_details")
    email = details.get("email") if isinstance(details, dict) else None
    return email if isinstance(email, str) and email else None


async def session_completed(session: AsyncSession, event: StripeEvent) -> None:
    ref = session_ref(event.obj)
    if event.obj.get("payment_status") in PAID_STATUSES:
        found = await settlement.confirm_donation(
            session, ref=ref, payment_intent_id=ref.payment_intent_id, donor_email=_email(event.obj)
        )
    else:
        # Delayed methods (SEPA, bank debits) complete checkout unpaid; async_payment_* follows.
        found = await settlement.mark_processing(session, ref=ref, payment_intent_id=ref.payment_intent_id)
    require(found, what="the checkout session's donation", required=ref.is_ours)


async def session_async_succeeded(session: AsyncSession, event: StripeEvent) -> None:
    ref = session_ref(event.obj)
    found = await settlement.confirm_donation(
        session, ref=ref, payment_intent_id=ref.payment_intent_id, donor_email=_email(event.obj)
    )
    require(found, what="the checkout session's donation", required=ref.is_ours)


async def session_async_failed(session: AsyncSession, event: StripeEvent) -> None:
    ref = session_ref(event.obj)
    found = await settlement.fail_donation(session, ref=ref, payment_intent_id=ref.payment_intent_id)
    require(found, what="the checkout session's donation", required=ref.is_ours)


async def session_expired(session: AsyncSession, event: StripeEvent) -> None:
    ref = session_ref(event.obj)
    found = await settlement.expire_donation(session, ref=ref)
    require(found, what="the checkout session's donation", required=ref.is_ours)


async def payment_intent_succeeded(session: AsyncSession, event: StripeEvent) -> None:
    ref = payment_intent_ref(event.obj)
    found = await settlement.confirm_donation(
        session, ref=ref, payment_intent_id=stripe_id(event.obj.get("id"))
    )
    require(found, what="the payment intent's donation", required=ref.is_ours)


async def payment_intent_failed(session: AsyncSession, event: StripeEvent) -> None:
    ref = payment_intent_ref(event.obj)
    found = await settlement.fail_donation(session, ref=ref, payment_intent_id=stripe_id(event.obj.get("id")))
    require(found, what="the payment intent's donation", required=ref.is_ours)
