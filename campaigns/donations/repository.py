"""Named donation queries: find and lock by our id or any Stripe id; campaign totals."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign
from campaigns.donations.models import SETTLED, Donation, DonationStatus
from service.db import for_no_key_update
from service.pagination import after_cursor
from service.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class DonationRef:
    """How to find a donation: our id, then the Stripe ids recorded on it.

    Webhook handlers never put a Stripe object's metadata.donation_id here: they look the
    donation up by the recorded Stripe ids and pass our id only once the payment is bound.
    """

    donation_id: uuid.UUID | None = None
    checkout_session_id: str | None = None
    payment_intent_id: str | None = None
    charge_id: str | None = None
    invoice_id: str | None = None
    """The paid Stripe invoice of a recurring gift's installment (donations.stripe_invoice_id)."""


_COLUMNS = (
    Donation.id,
    Donation.stripe_checkout_session_id,
    Donation.stripe_payment_intent_id,
    Donation.stripe_charge_id,
    Donation.stripe_invoice_id,
)
"""How a DonationRef is looked up, in precedence order: our id, then Stripe's ids."""


def _keys(ref: DonationRef) -> tuple[uuid.UUID | str | None, ...]:
    """The ref's key for each of _COLUMNS, in the same order."""
    return ref.donation_id, ref.checkout_session_id, ref.payment_intent_id, ref.charge_id, ref.invoice_id


@dataclass
class LockedDonations:
    """Donations already locked in this transaction, by each of _COLUMNS.

    `searched` holds the keys that were looked up in advance: a key found in no map but
    searched has no donation; a key never searched must go to the database.
    """

    by_column: tuple[dict[Any, Donation], ...] = field(default_factory=lambda: tuple({} for _ in _COLUMNS))
    searched: set[uuid.UUID | str] = field(default_factory=set)

    def add(self, donation: Donation) -> None:
        for column, found_by in zip(_COLUMNS, self.by_column, strict=True):
            if (key := getattr(donation, column.key)) is not None:
                found_by[key] = donation

    def find(self, ref: DonationRef) -> Donation | None:
        """What lock_donation's queries would return, when memory can tell; else None."""
        for key, found_by in zip(_keys(ref), self.by_column, strict=True):
            if not key:
                continue
            if key in found_by:
                return found_by[key]
            if key not in self.searched:
                return None
        return None


async def lock_donations(
    session: UnitOfWork, refs: Iterable[DonationRef], *, remember: bool = True
) -> list[Donation]:
    """Lock every donation a batch of events points at, in one query, in id order; returns them.

    The processor calls this before running a batch's handlers (donations come first in the
    lock order, docs/architecture.md); with `remember`, lock_donation then answers from
    memory. Only for a session that keeps its objects for the whole transaction (no savepoint
    rollbacks), since a rolled-back savepoint would leave these objects stale: the one-by-one
    path passes remember=False and only keeps the row locks, which outlive its savepoints.
    """
    wanted: tuple[set[uuid.UUID | str], ...] = tuple(set() for _ in _COLUMNS)
    for ref in refs:
        for key, keys in zip(_keys(ref), wanted, strict=True):
            if key:
                keys.add(key)
    locked = LockedDonations(searched=set().union(*wanted))
    conditions = [column.in_(keys) for column, keys in zip(_COLUMNS, wanted, strict=True) if keys]
    donations: list[Donation] = []
    if conditions:
        query = sa.select(Donation).where(sa.or_(*conditions)).order_by(Donation.id)
        found = await session.scalars(for_no_key_update(query).execution_options(populate_existing=True))
        donations = list(found.all())
        for donation in donations:
            locked.add(donation)
    if remember:
        session.locked_donations = locked
    return donations


def _locked(session: UnitOfWork) -> LockedDonations | None:
    """The donations the unit locked in advance (lock_donations with `remember`), if any."""
    locked = session.locked_donations
    return locked if isinstance(locked, LockedDonations) else None


def note_stripe_ids(session: UnitOfWork, donation: Donation) -> None:
    """A locked donation just learned a Stripe id: later lookups by that id must find it."""
    locked = _locked(session)
    if locked is not None:
        locked.add(donation)


async def lock_donation(session: UnitOfWork, ref: DonationRef) -> Donation | None:
    """The donation the reference points at, row-locked until the transaction ends.

    The lock serialises sibling events (session completed, intent succeeded, charge succeeded)
    for one donation when several processors run at once. Donations locked in advance by
    lock_donations are answered from memory; anything else is looked up (and locked) here.
    """
    locked = _locked(session)
    if locked is not None and (known := locked.find(ref)) is not None:
        return known
    conditions = [column == key for column, key in zip(_COLUMNS, _keys(ref), strict=True) if key]
    # Sessions do not autoflush and populate_existing reloads the row: write this transaction's
    # own changes first, or two use cases run in one transaction would lose the first's.
    await session.flush()
    for condition in conditions:
        found = await session.scalar(
            for_no_key_update(sa.select(Donation).where(condition)).execution_options(populate_existing=True)
        )
        if found is not None:
            if locked is not None:
                locked.add(found)
            return found
    return None


async def lock_campaign(session: AsyncSession, campaign_id: uuid.UUID) -> Campaign:
    """Locked so two donations settling at once cannot both write totals computed without the other.

    Campaigns come last in the lock order (docs/architecture.md), and FOR NO KEY UPDATE lets
    checkouts keep inserting donations (a key-share lock on this row) while totals are written.
    """
    campaign = await session.scalar(
        for_no_key_update(sa.select(Campaign).where(Campaign.id == campaign_id)).execution_options(
            populate_existing=True
        )
    )
    assert campaign is not None, "a donation always belongs to a campaign"
    return campaign


def net_gift() -> sa.ColumnElement[int]:
    """A settled donation's contribution to its campaign: the gift less refunds, never below 0."""
    return sa.case(
        (Donation.amount_minor > Donation.refunded_minor, Donation.amount_minor - Donation.refunded_minor),
        else_=0,
    )


async def settled_totals(session: AsyncSession, campaign_id: uuid.UUID) -> tuple[int, int]:
    """(raised_minor, donor_count) from the campaign's settled donations.

    donor_count counts distinct donor emails (case-insensitive) plus each settled donation
    without an email as one donor of its own.
    """
    settled = sa.and_(Donation.campaign_id == campaign_id, Donation.status.in_(SETTLED))
    row = (
        await session.execute(
            sa.select(
                sa.func.coalesce(sa.func.sum(net_gift()), 0),
                sa.func.count(sa.distinct(sa.func.lower(Donation.donor_email))),
                sa.func.coalesce(sa.func.sum(sa.case((Donation.donor_email.is_(None), 1), else_=0)), 0),
            ).where(settled)
        )
    ).one()
    return int(row[0]), int(row[1]) + int(row[2])


async def list_for_nonprofit(
    session: AsyncSession,
    *,
    nonprofit_id: uuid.UUID,
    status: DonationStatus | None,
    campaign_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> list[Donation]:
    """One organisation's donations, oldest first, limit + 1 rows (service.pagination)."""
    query = sa.select(Donation).where(Donation.nonprofit_id == nonprofit_id)
    if status is not None:
        query = query.where(Donation.status == status)
    if campaign_id is not None:
        query = query.where(Donation.campaign_id == campaign_id)
    query = after_cursor(query, Donation.created_at, Donation.id, cursor).limit(limit + 1)
    return list((await session.scalars(query)).all())


async def get_for_nonprofit(
    session: AsyncSession, *, donation_id: uuid.UUID, nonprofit_id: uuid.UUID
) -> Donation | None:
    """The donation if it is this organisation's; another's is None, like one that does not exist."""
    found: Donation | None = await session.scalar(
        sa.select(Donation).where(Donation.id == donation_id, Donation.nonprofit_id == nonprofit_id)
    )
    return found
