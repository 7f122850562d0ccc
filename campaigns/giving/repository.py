"""Named queries for the donor's path. No rules, no commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign
from campaigns.donations.models import SETTLED, Donation, MessageStatus
from campaigns.giving.timeago import relative_time
from campaigns.nonprofits.models import Nonprofit
from service import i18n
from service.db import for_no_key_update
from service.pagination import Cursor, newest_first


@dataclass(frozen=True)
class Supporter:
    """One gift on the wall of support. Holds what the donation says; what the public may see
    of it (name, amount, message) is decided by the properties, in one place."""

    donation_id: uuid.UUID
    anonymous: bool
    name: str | None
    amount_minor: int
    currency: str
    message: str | None
    hide_amount: bool = False
    message_status: MessageStatus = MessageStatus.SHOWN
    created_at: datetime | None = None

    @classmethod
    def of(cls, donation: Donation | sa.Row[*tuple[Any, ...]]) -> Supporter:
        """From a donation, or a row of its `_SUPPORTER_COLUMNS` (the same names)."""
        return cls(
            donation_id=donation.id,
            anonymous=donation.anonymous,
            name=donation.donor_name,
            amount_minor=donation.amount_minor,
            currency=donation.currency,
            message=donation.message,
            hide_amount=donation.hide_amount,
            message_status=donation.message_status,
            created_at=donation.created_at,
        )

    @property
    def public(self) -> bool:
        """A flagged (pending) or hidden entry shows neither name nor message."""
        return self.message_status is MessageStatus.SHOWN

    @property
    def display_name(self) -> str:
        if self.anonymous or not self.public or not self.name:
            return ANONYMOUS
        return self.name

    @property
    def shown_message(self) -> str | None:
        return self.message if self.public else None

    @property
    def shown_amount_minor(self) -> int | None:
        return None if self.hide_amount else self.amount_minor

    @property
    def reportable(self) -> bool:
        """Whether the wall shows words of the donor's own (a name or a message) to report."""
        return self.shown_message is not None or self.display_name != ANONYMOUS

    def ago(self, now: datetime | None, language: str = i18n.DEFAULT_LANGUAGE) -> str:
        """When the gift was made, for people ("2 hours ago"); empty without a clock reading."""
        return relative_time(self.created_at, now, language) if now is not None else ""

    def name_in(self, language: str) -> str:
        """display_name for a reader of `language` ("Anonymous" / "Anoniem")."""
        name = self.display_name
        return i18n.translations(language).gettext(ANONYMOUS) if name == ANONYMOUS else name


async def get_campaign_with_nonprofit(session: AsyncSession, slug: str) -> tuple[Campaign, Nonprofit] | None:
    query = (
        sa.select(Campaign, Nonprofit)
        .join(Nonprofit, Nonprofit.id == Campaign.nonprofit_id)
        .where(Campaign.slug == slug)
    )
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row is not None else None


ANONYMOUS = "Anonymous"
WALL_STATUSES = SETTLED
"""Gifts the wall shows: settled ones (a refunded or disputed gift leaves it)."""
_SUPPORTER_COLUMNS = (
    Donation.id,
    Donation.anonymous,
    Donation.donor_name,
    Donation.amount_minor,
    Donation.currency,
    Donation.message,
    Donation.hide_amount,
    Donation.message_status,
    Donation.created_at,
)


async def list_recent_supporters(
    session: AsyncSession, campaign_id: uuid.UUID, *, limit: int, before: Cursor | None = None
) -> list[Supporter]:
    """Newest first, columns only (no ORM rows): one indexed query per page view. `before`
    continues a paged list after the last gift of the previous page."""
    query = sa.select(*_SUPPORTER_COLUMNS).where(
        Donation.campaign_id == campaign_id, Donation.status.in_(WALL_STATUSES)
    )
    query = newest_first(query, Donation.created_at, Donation.id, before).limit(limit)
    return [Supporter.of(row) for row in (await session.execute(query)).all()]


async def get_donation(session: AsyncSession, donation_id: uuid.UUID) -> Donation | None:
    return await session.get(Donation, donation_id)


async def lock_donation(session: AsyncSession, donation_id: uuid.UUID) -> Donation | None:
    # The weakest lock that keeps writers out (docs/architecture.md, "Lock order").
    return await session.scalar(for_no_key_update(sa.select(Donation).where(Donation.id == donation_id)))
