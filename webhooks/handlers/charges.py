"""Charges, refunds and early fraud warnings."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.donations import settlement
from campaigns.donations.repository import DonationRef
from webhooks.errors import NotYetKnown
from webhooks.events import StripeEvent, stripe_id
from webhooks.handlers.common import amount, charge_ref, child_of_charge_ref, require

FAILED_REFUND_STATUSES = frozenset({"failed", "canceled"})


def _card_fingerprint(obj: dict[str, Any]) -> str | None:
    details = obj.get("payment_method_details")
    if not isinstance(details, dict):
        return None
    method = details.get(details.get("type") or "")
    fingerprint = method.get("fingerprint") if isinstance(method, dict) else None
    return fingerprint[:64] if isinstance(fingerprint, str) else None


def _charge_facts(obj: dict[str, Any]) -> settlement.ChargeFacts:
    outcome = obj.get("outcome") if isinstance(obj.get("outcome"), dict) else {}
    assert isinstance(outcome, dict)
    risk_score = outcome.get("risk_score")
    risk_level = outcome.get("risk_level")
    # The fee is only in the event when the balance transaction was expanded.
    balance = obj.get("balance_transaction")
    fee = balance.get("fee") if isinstance(balance, dict) else None
    return settlement.ChargeFacts(
        charge_id=str(obj["id"]),
        payment_intent_id=stripe_id(obj.get("payment_intent")),
        card_fingerprint=_card_fingerprint(obj),
        risk_score=risk_score if isinstance(risk_score, int) else None,
        risk_level=risk_level[:32] if isinstance(risk_level, str) else None,
        fee_minor=fee if isinstance(fee, int) and fee >= 0 else None,
    )


async def charge_succeeded(session: AsyncSession, event: StripeEvent) -> None:
    ref = charge_ref(event.obj)
    found = await settlement.record_charge(session, ref=ref, charge=_charge_facts(event.obj))
    require(found, what="the charge's donation", required=ref.is_ours)


async def _apply_refund(
    session: AsyncSession, refund: dict[str, Any], ref: DonationRef, *, failed: bool
) -> None:
    refund_id = stripe_id(refund.get("id"))
    if refund_id is None:
        return
    found = await settlement.record_refund(
        session,
        ref=ref,
        stripe_refund_id=refund_id,
        amount_minor=amount(refund, "amount"),
        failed=failed or refund.get("status") in FAILED_REFUND_STATUSES,
    )
    require(found, what="the refunded charge's donation", required=True)


async def refund_changed(session: AsyncSession, event: StripeEvent) -> None:
    """refund.created / refund.updated / refund.failed: one refund's absolute state."""
    failed = event.type == "refund.failed"
    await _apply_refund(session, event.obj, child_of_charge_ref(event.obj), failed=failed)


async def charge_refunded(session: AsyncSession, event: StripeEvent) -> None:
    """The charge's total refunded; individual refunds come inline (older API versions) or as refund.*."""
    ref = charge_ref(event.obj)
    refunds = event.obj.get("refunds")
    listed = refunds.get("data") if isinstance(refunds, dict) else None
    for refund in listed if isinstance(listed, list) else []:
        if isinstance(refund, dict):
            await _apply_refund(session, refund, ref, failed=False)
    known = await settlement.refunds_known(
        session, ref=ref, amount_refunded_minor=amount(event.obj, "amount_refunded")
    )
    require(known, what="the refunded charge's donation", required=ref.is_ours)
    if known is False:
        raise NotYetKnown("the refunds behind the charge's amount_refunded have not arrived yet")


async def early_fraud_warning(session: AsyncSession, event: StripeEvent) -> None:
    found = await settlement.record_early_fraud_warning(session, ref=child_of_charge_ref(event.obj))
    require(found, what="the warned charge's donation", required=True)
