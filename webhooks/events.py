"""The Stripe event envelope as the inbox stores it, and the event types Goodloop handles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

HANDLED_TYPES: frozenset[str] = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "charge.succeeded",
        "charge.refunded",
        "refund.created",
        "refund.updated",
        "refund.failed",
        "charge.dispute.created",
        "charge.dispute.updated",
        "charge.dispute.closed",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.funds_reinstated",
        "radar.early_fraud_warning.created",
        "account.updated",
        "transfer.created",
        "transfer.updated",
        "transfer.reversed",
        # Recurring gifts (webhooks/handlers/subscriptions.py).
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "invoice.paid",
        "invoice.payment_failed",
        "invoice_payment.paid",
    }
)


class EventData(BaseModel):
    model_config = ConfigDict(extra="allow")

    object: dict[str, Any]


class Envelope(BaseModel):
    """The fields of a verified event that the inbox needs; the rest is kept in the payload."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1, max_length=255)
    type: str = Field(min_length=1, max_length=100)
    livemode: StrictBool
    created: StrictInt = Field(ge=0, le=2**40)
    account: str | None = Field(default=None, max_length=255)
    api_version: str | None = Field(default=None, max_length=40)
    data: EventData


@dataclass(frozen=True)
class StripeEvent:
    """What a handler sees: the event's identity and its data.object."""

    id: str
    type: str
    account: str | None
    created_at: datetime
    obj: dict[str, Any]

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> StripeEvent:
        return cls(
            id=payload["id"],
            type=payload["type"],
            account=payload.get("account"),
            created_at=datetime.fromtimestamp(payload["created"], UTC),
            obj=payload["data"]["object"],
        )


def stripe_id(value: Any) -> str | None:
    """An id field that Stripe sends either as "xx_123" or, when expanded, as {"id": "xx_123", ...}."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None
