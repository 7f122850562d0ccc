"""Which handler runs for which event type."""

from __future__ import annotations

from webhooks.handlers import charges, checkout, connect, disputes
from webhooks.handlers.common import Handler

HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": checkout.session_completed,
    "checkout.session.async_payment_succeeded": checkout.session_async_succeeded,
    "checkout.session.async_payment_failed": checkout.session_async_failed,
    "checkout.session.expired": checkout.session_expired,
    "payment_intent.succeeded": checkout.payment_intent_succeeded,
    "payment_intent.payment_failed": checkout.payment_intent_failed,
    "charge.succeeded": charges.charge_succeeded,
    "charge.refunded": charges.charge_refunded,
    "refund.created": charges.refund_changed,
    "refund.updated": charges.refund_changed,
    "refund.failed": charges.refund_changed,
    "charge.dispute.created": disputes.dispute_changed,
    "charge.dispute.updated": disputes.dispute_changed,
    "charge.dispute.closed": disputes.dispute_changed,
    "charge.dispute.funds_withdrawn": disputes.dispute_changed,
    "charge.dispute.funds_reinstated": disputes.dispute_changed,
    "radar.early_fraud_warning.created": charges.early_fraud_warning,
    "account.updated": connect.account_updated,
    "transfer.created": connect.transfer_changed,
    "transfer.reversed": connect.transfer_changed,
}
