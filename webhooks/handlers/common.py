"""What every handler shares: the ids a Stripe object names, and "not yet known"."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from campaigns.donations.repository import DonationRef
from service.unit_of_work import UnitOfWork
from webhooks.errors import NotYetKnown
from webhooks.events import StripeEvent, stripe_id

Handler = Callable[[UnitOfWork, StripeEvent], Awaitable[None]]
T = TypeVar("T")


def metadata_donation_id(obj: dict[str, Any]) -> uuid.UUID | None:
    metadata = obj.get("metadata")
    raw = metadata.get("donation_id") if isinstance(metadata, dict) else None
    if not isinstance(raw, str):
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def any_ref(obj: dict[str, Any]) -> DonationRef:
    """Every id by which an event's object may point at a donation, whatever its type.

    The processor locks a batch's donations up front with these; each handler still binds
    its object by our recorded Stripe ids only (webhooks.handlers.binding). The metadata's
    donation id is locked too because an object not linked yet is judged against it.
    """
    own = stripe_id(obj.get("id")) or ""
    # An invoice carries its subscription's metadata (our first donation, whose campaign's
    # programs the installment may touch) under parent.subscription_details.
    parent = obj.get("parent")
    details = parent.get("subscription_details") if isinstance(parent, dict) else None
    return DonationRef(
        invoice_id=own if own.startswith("in_") else stripe_id(obj.get("invoice")),
        donation_id=metadata_donation_id(obj) or metadata_donation_id({"metadata": _metadata_of(details)}),
        checkout_session_id=own if own.startswith("cs_") else None,
        payment_intent_id=own if own.startswith("pi_") else stripe_id(obj.get("payment_intent")),
        charge_id=own
        if own.startswith(("ch_", "py_"))
        else stripe_id(obj.get("charge")) or stripe_id(obj.get("source_transaction")),
    )


def _metadata_of(details: Any) -> Any:
    return details.get("metadata") if isinstance(details, dict) else None


def require(found: T | None, *, what: str, required: bool) -> T | None:
    """Retry later when the event must concern something we will know; else let it pass."""
    if found is None and required:
        raise NotYetKnown(f"{what} is not known yet")
    return found


def amount(obj: dict[str, Any], key: str) -> int:
    value = obj.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
