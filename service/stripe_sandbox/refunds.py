"""Money coming back: refunds (API), disputes and early fraud warnings (control endpoints)."""

from __future__ import annotations

from service.stripe_sandbox import objects
from service.stripe_sandbox.checkout import parse_int, string_map
from service.stripe_sandbox.errors import StripeApiError, missing_param
from service.stripe_sandbox.objects import Obj
from service.stripe_sandbox.state import SandboxState

REFUND_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer"})


def _refunded_charge(state: SandboxState, params: Obj) -> Obj:
    if params.get("charge"):
        return state.get("charge", params["charge"], param="charge")
    if params.get("payment_intent"):
        pi = state.get("payment_intent", params["payment_intent"], param="payment_intent")
        if pi["status"] != "succeeded" or not pi["latest_charge"]:
            raise StripeApiError(
                f"This PaymentIntent ({pi['id']}) does not have a successful charge to refund.",
                param="payment_intent",
            )
        return state.get("charge", pi["latest_charge"])
    raise missing_param("charge")


def create_refund(state: SandboxState, params: Obj, *, request: Obj) -> tuple[Obj, list[Obj]]:
    ch = _refunded_charge(state, params)
    if ch["status"] != "succeeded":
        raise StripeApiError(f"Charge {ch['id']} has not succeeded and cannot be refunded.", param="charge")
    remaining = ch["amount"] - ch["amount_refunded"]
    if remaining == 0:
        raise StripeApiError(
            f"Charge {ch['id']} has already been refunded.", code="charge_already_refunded", param="charge"
        )
    amount = parse_int(params["amount"], "amount", minimum=1) if "amount" in params else remaining
    if amount > remaining:
        raise StripeApiError(
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
            code="amount_too_large",
            param="amount",
        )
    reason = params.get("reason")
    if reason is not None and reason not in REFUND_REASONS:
        raise StripeApiError(f"Invalid reason: {reason}", code="parameter_invalid", param="reason")
    txn = objects.balance_transaction(
        source="", amount=-amount, currency=ch["currency"], method="card", kind="refund"
    )
    refund = objects.from_fixture(
        "refund",
        id=objects.new_id("re_3"),
        amount=amount,
        balance_transaction=txn["id"],
        charge=ch["id"],
        created=objects.now(),
        currency=ch["currency"],
        metadata=string_map(params.get("metadata"), "metadata"),
        payment_intent=ch["payment_intent"],
        reason=reason,
        status="succeeded",
        payment_method=ch["payment_method"],
    )
    txn["source"] = refund["id"]
    state.put(txn)
    state.put(refund)
    previous = {"amount_refunded": ch["amount_refunded"], "refunded": ch["refunded"]}
    ch["amount_refunded"] += amount
    ch["refunded"] = ch["amount_refunded"] == ch["amount"]
    ch["refunds"]["data"].insert(0, state.snapshot(refund))
    ch["refunds"]["total_count"] = len(ch["refunds"]["data"])
    events = [
        state.emit("charge.refunded", ch, request=request, previous=previous),
        state.emit("refund.created", refund, request=request),
    ]
    return refund, events


def dispute_charge(state: SandboxState, charge_id: str, *, reason: str) -> list[Obj]:
    ch = state.get("charge", charge_id)
    if ch["status"] != "succeeded":
        raise StripeApiError(f"Charge {charge_id} has not succeeded; it cannot be disputed.")
    dispute = objects.from_fixture(
        "dispute",
        id=objects.new_id("du_1"),
        amount=ch["amount"],
        charge=ch["id"],
        created=objects.now(),
        currency=ch["currency"],
        payment_intent=ch["payment_intent"],
        reason=reason,
        status="needs_response",
        is_charge_refundable=False,
    )
    dispute["evidence_details"]["due_by"] = objects.now() + 7 * 86400
    dispute["payment_method_details"]["card"]["case_type"] = "chargeback"
    state.put(dispute)
    ch["disputed"] = True
    return [state.emit("charge.dispute.created", dispute)]


def warn_early_fraud(state: SandboxState, charge_id: str, *, fraud_type: str) -> list[Obj]:
    ch = state.get("charge", charge_id)
    warning = objects.from_fixture(
        "radar.early_fraud_warning",
        id=objects.new_id("issfr_1"),
        actionable=not ch["refunded"] and not ch["disputed"],
        charge=ch["id"],
        created=objects.now(),
        fraud_type=fraud_type,
    )
    warning["payment_intent"] = ch["payment_intent"]
    state.put(warning)
    return [state.emit("radar.early_fraud_warning.created", warning)]
