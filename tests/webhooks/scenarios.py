"""Realistic event histories of one donation each, for the property, crash and outage tests.

Each scenario is the list of events Stripe sends for one donation, in the order Stripe
would normally send them, with fixed event ids so duplicates are true redeliveries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.webhooks.stripe_events import Payment, event, new_id

JSON = dict[str, Any]

DESTINATION = "acct_dest"
"""The connected account scenario donations pay (destination charges): `transferred` moves money there."""


def _card(p: Payment) -> list[JSON]:
    return [
        event("checkout.session.completed", p.checkout_session()),
        event("payment_intent.succeeded", p.payment_intent()),
        event("charge.succeeded", p.charge(fee_minor=p.amount_minor // 40 + 25)),
    ]


def card(p: Payment) -> list[JSON]:
    return _card(p)


def delayed_success(p: Payment) -> list[JSON]:
    return [
        event("checkout.session.completed", p.checkout_session(payment_status="unpaid")),
        event("checkout.session.async_payment_succeeded", p.checkout_session()),
        event("payment_intent.succeeded", p.payment_intent()),
    ]


def delayed_failure(p: Payment) -> list[JSON]:
    return [
        event("checkout.session.completed", p.checkout_session(payment_status="unpaid")),
        event("checkout.session.async_payment_failed", p.checkout_session(payment_status="unpaid")),
        event("payment_intent.payment_failed", p.payment_intent(status="requires_payment_method")),
    ]


def expired(p: Payment) -> list[JSON]:
    return [event("checkout.session.expired", p.checkout_session(payment_status="unpaid", status="expired"))]


def partial_refund(p: Payment) -> list[JSON]:
    part = p.amount_minor // 3
    refund = p.refund(refund_id=new_id("re"), amount_minor=part)
    return [
        *_card(p),
        event("refund.created", refund),
        event("charge.refunded", p.charge(amount_refunded=part)),
    ]


def full_refund(p: Payment) -> list[JSON]:
    first = p.amount_minor // 2
    refunds = [
        p.refund(refund_id=new_id("re"), amount_minor=first),
        p.refund(refund_id=new_id("re"), amount_minor=p.amount_minor - first),
    ]
    return [
        *_card(p),
        event("refund.created", refunds[0]),
        event("charge.refunded", p.charge(amount_refunded=first)),
        event("refund.created", refunds[1]),
        event("charge.refunded", p.charge(amount_refunded=p.amount_minor)),
    ]


def dispute_lost(p: Payment) -> list[JSON]:
    dispute_id = new_id("dp")
    return [
        *_card(p),
        event("radar.early_fraud_warning.created", p.early_fraud_warning()),
        event("charge.dispute.created", p.dispute(dispute_id=dispute_id)),
        event("charge.dispute.funds_withdrawn", p.dispute(dispute_id=dispute_id)),
        event("charge.dispute.closed", p.dispute(dispute_id=dispute_id, status="lost")),
    ]


def dispute_won(p: Payment) -> list[JSON]:
    dispute_id = new_id("dp")
    return [
        *_card(p),
        event("charge.dispute.created", p.dispute(dispute_id=dispute_id)),
        event("charge.dispute.funds_withdrawn", p.dispute(dispute_id=dispute_id)),
        event("charge.dispute.funds_reinstated", p.dispute(dispute_id=dispute_id, status="won")),
        event("charge.dispute.closed", p.dispute(dispute_id=dispute_id, status="won")),
    ]


def transferred(p: Payment) -> list[JSON]:
    transfer_id = new_id("tr")
    return [
        *_card(p),
        event("transfer.created", p.transfer(transfer_id=transfer_id)),
        event("transfer.reversed", p.transfer(transfer_id=transfer_id, amount_reversed=100)),
    ]


SCENARIOS: dict[str, Callable[[Payment], list[JSON]]] = {
    "card": card,
    "delayed_success": delayed_success,
    "delayed_failure": delayed_failure,
    "expired": expired,
    "partial_refund": partial_refund,
    "full_refund": full_refund,
    "dispute_lost": dispute_lost,
    "dispute_won": dispute_won,
    "transferred": transferred,
}
