"""Facts: one announcement per business fact, in the transaction that makes it true.

A fact is something a nonprofit's people or systems may want to hear about: a donation was
confirmed or refunded, a match was approved or paid, a payout arrived, a campaign changed status,
a recurring gift started or failed. The module that makes the fact true (settlement, the match
state machine, payout confirmations, the campaign status machine, recurring gifts) calls
`announce` once, at the state change itself, inside its unit of work. Every listener then acts in
that same transaction: the receipt and the members' emails go into the mail outbox, the outbound
webhook event is stored for delivery. A rollback drops them all with the fact; a replayed Stripe
event never moves a state forward twice, so it never announces twice, and each listener keys its
own rows by `fact.key` (a UNIQUE column) as a second guard.

Facts sit below every domain package (docs/architecture.md, "Facts"), so any package may
announce; who listens is decided once, in `campaigns.wiring.wire()`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from campaigns.plugs import Plug
from service.unit_of_work import UnitOfWork

DONATION_CONFIRMED: Final = "donation.confirmed"
DONATION_REFUNDED: Final = "donation.refunded"
"""Refunded in full or in part (data.object says how much in total)."""
DONATION_DISPUTED: Final = "donation.disputed"
DONATION_DISPUTE_CLOSED: Final = "donation.dispute_closed"
"""The dispute ended; data.object's dispute status says won or lost."""
RECURRING_STARTED: Final = "recurring.started"
RECURRING_RENEWED: Final = "recurring.renewed"
RECURRING_PAYMENT_FAILED: Final = "recurring.payment_failed"
RECURRING_CANCELED: Final = "recurring.canceled"
MATCH_APPROVED: Final = "match.approved"
MATCH_REJECTED: Final = "match.rejected"
MATCH_PAID: Final = "match.paid"
MATCH_VOIDED: Final = "match.voided"
PAYOUT_PAID: Final = "payout.paid"
CAMPAIGN_STATUS_CHANGED: Final = "campaign.status_changed"
FUNDRAISER_CREATED: Final = "fundraiser.created"
"""A supporter's page exists: its email was confirmed (it may still wait for approval)."""
FUNDRAISER_APPROVED: Final = "fundraiser.approved"
FUNDRAISER_HIDDEN: Final = "fundraiser.hidden"
FUNDRAISER_UNHIDDEN: Final = "fundraiser.unhidden"
FUNDRAISER_ENDED: Final = "fundraiser.ended"
FUNDRAISER_AWAITING_APPROVAL: Final = "fundraiser.awaiting_approval"
"""A live page went back to waiting for approval: its owner changed what the nonprofit approved."""

TYPES: Final[tuple[str, ...]] = (
    DONATION_CONFIRMED,
    DONATION_REFUNDED,
    DONATION_DISPUTED,
    DONATION_DISPUTE_CLOSED,
    RECURRING_STARTED,
    RECURRING_RENEWED,
    RECURRING_PAYMENT_FAILED,
    RECURRING_CANCELED,
    MATCH_APPROVED,
    MATCH_REJECTED,
    MATCH_PAID,
    MATCH_VOIDED,
    PAYOUT_PAID,
    CAMPAIGN_STATUS_CHANGED,
    FUNDRAISER_CREATED,
    FUNDRAISER_APPROVED,
    FUNDRAISER_HIDDEN,
    FUNDRAISER_UNHIDDEN,
    FUNDRAISER_ENDED,
    FUNDRAISER_AWAITING_APPROVAL,
)
"""Every type announced today."""


@dataclass(frozen=True)
class Fact:
    type: str
    """One of TYPES."""
    key: str
    """Names this fact and no other, e.g. `donation:{id}:confirmed` or `donation:{id}:refund:{total}`;
    listeners derive their idempotency keys (outbox, event id) from it."""
    nonprofit_id: uuid.UUID
    """Whose fact it is: only this nonprofit's endpoints and members hear it."""
    subject_id: uuid.UUID
    """The id of the object the fact is about (the donation, match, payout, campaign, gift)."""
    occurred_at: datetime
    """The unit's clock when the fact became true."""
    data: Mapping[str, Any]
    """The object as the public API returns it, JSON-ready (outbound webhooks send it as is)."""


class FactListener(Protocol):
    async def on_fact(self, session: UnitOfWork, fact: Fact) -> None:
        """Act on the fact inside the announcing transaction; must be idempotent per fact.key."""
        ...


listeners: Plug[Sequence[FactListener]] = Plug("campaigns.facts.listeners")


async def announce(session: UnitOfWork, fact: Fact) -> None:
    """Tell every listener, in order, inside the caller's transaction."""
    for listener in listeners():
        await listener.on_fact(session, fact)
