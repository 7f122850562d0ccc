"""Charges, refunds and early fraud warnings."""

from __future__ import annotations

from typing import Any

from campaigns.donations import settlement
from campaigns.donations.repository import DonationRef
from service.unit_of_work import UnitOfWork
from webhooks.errors import NotYetKnown
from webhooks.events import StripeEvent, stripe_id
from webhooks.handlers import binding
from webhooks.handlers.common import amount

FAILED_REFUND_STATUSES = frozenset({"failed", "canceled"})


def _card_fingerprint(obj: dict[str, Any]) -> str | None:
    details = obj.get("payment_method_details")
    if not isinstance(details, dict):
        return None
    method = details.get(details.get("type") or "")
    fingerprint = method.get("fingerprint") if isinstance(method, dict) else None
    return fingerprint[:64] if isinstance(fingerprint, str) else None


def _payment_method_type(obj: dict[str, Any]) -> str | None:
    details = obj.get("payment_method_details")
    kind = details.get("type") if isinstance(details, dict) else None
    return kind[:32] if isinstance(kind, str) and kind else None


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
        payment_method_type=_payment_method_type(obj),
    )


async def charge_succeeded(session: UnitOfWork, event: StripeEvent) -> None:
    donation = await binding.bind(session, event, binding.charge_claim(event.obj))
    if donation is not None:
        await settlement.record_charge(session, ref=binding.ref(donation), charge=_charge_facts(event.obj))


async def _apply_refund(
    session: UnitOfWork, refund: dict[str, Any], ref: DonationRef, *, failed: bool
) -> None:
    refund_id = stripe_id(refund.get("id"))
    if refund_id is None:
        return
    await settlement.record_refund(
        session,
        ref=ref,
        stripe_refund_id=refund_id,
        amount_minor=amount(refund, "amount"),
        failed=failed or refund.get("status") in FAILED_REFUND_STATUSES,
    )


async def refund_changed(session: UnitOfWork, event: StripeEvent) -> None:
    """refund.created / refund.updated / refund.failed: one refund's absolute state."""
    donation = await binding.bind(session, event, binding.child_of_charge_claim(event.obj))
    if donation is not None:
        failed = event.type == "refund.failed"
        await _apply_refund(session, event.obj, binding.ref(donation), failed=failed)


async def charge_refunded(session: UnitOfWork, event: StripeEvent) -> None:
    """The charge's total refunded; individual refunds come inline (older API versions) or as refund.*."""
    donation = await binding.bind(session, event, binding.charge_claim(event.obj))
    if donation is None:
        return
    ref = binding.ref(donation)
    refunds = event.obj.get("refunds")
    listed = refunds.get("data") if isinstance(refunds, dict) else None
    for refund in listed if isinstance(listed, list) else []:
        # Inline refunds belong to this (bound) charge; one naming another charge is not applied.
        if isinstance(refund, dict) and stripe_id(refund.get("charge")) in (
            None,
            stripe_id(event.obj.get("id")),
        ):
            await _apply_refund(session, refund, ref, failed=False)
    known = await settlement.refunds_known(
        session, ref=ref, amount_refunded_minor=amount(event.obj, "amount_refunded")
    )
    if known is False:
        raise NotYetKnown("the refunds behind the charge's amount_refunded have not arrived yet")


async def early_fraud_warning(session: UnitOfWork, event: StripeEvent) -> None:
    claim = binding.child_of_charge_claim(event.obj, has_amount=False)
    donation = await binding.bind(session, event, claim)
    if donation is not None:
        await settlement.record_early_fraud_warning(session, ref=binding.ref(donation))
