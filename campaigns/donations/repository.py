"""Named donation queries: find and lock by our id or any Stripe id; campaign totals."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign
from campaigns.donations.models import SETTLED, Donation


@dataclass(frozen=True)
class DonationRef:
    """How a Stripe object points at a donation: our metadata first, then Stripe's ids."""

    donation_id: uuid.UUID | None = None
    checkout_session_id: str | None = None
    payment_intent_id: str | None = None
    charge_id: str | None = None

    @property
    def is_ours(self) -> bool:
        """Carries our metadata, so the donation must exist (or soon will)."""
        return self.donation_id is not None


@dataclass
class LockedDonations:
    """Donations already locked in this transaction, by every id a Stripe object may use.

    `searched` holds the ids that were looked up in advance: an id found in no map but
    searched has no donation; an id never searched must go to the database.
    """

    by_id: dict[uuid.UUID, Donation] = field(default_factory=dict)
    by_session: dict[str, Donation] = field(default_factory=dict)
    by_intent: dict[str, Donation] = field(default_factory=dict)
    by_charge: dict[str, Donation] = field(default_factory=dict)
    searched: set[uuid.UUID | str] = field(default_factory=set)

    def add(self, donation: Donation) -> None:
        self.by_id[donation.id] = donation
        if donation.stripe_checkout_session_id:
            self.by_session[donation.stripe_checkout_session_id] = donation
        if donation.stripe_payment_intent_id:
            self.by_intent[donation.stripe_payment_intent_id] = donation
        if donation.stripe_charge_id:
            self.by_charge[donation.stripe_charge_id] = donation

    def find(self, ref: DonationRef) -> Donation | None:
        """What lock_donation's queries would return, when memory can tell; else None.

        Same precedence as the queries: our id, then the session, intent and charge ids.
        """
        lookups: tuple[tuple[uuid.UUID | str | None, dict[Any, Donation]], ...] = (
            (ref.donation_id, self.by_id),
            (ref.checkout_session_id, self.by_session),
            (ref.payment_intent_id, self.by_intent),
            (ref.charge_id, self.by_charge),
        )
        for key, found_by in lookups:
            if not key:
                continue
            if key in found_by:
                return found_by[key]
            if key not in self.searched:
                return None
        return None


_LOCKED = "donations_locked"


async def lock_donations(session: AsyncSession, refs: Iterable[DonationRef]) -> LockedDonations:
    """Lock every donation a batch of events points at, in one query, in id order.

    The processor calls this before running a batch's handlers; lock_donation then answers
    from memory. Locking in id order means two workers never wait on each other in a cycle.
    Only for a session that keeps its objects for the whole transaction (no savepoint
    rollbacks), since a rolled-back savepoint would leave these objects stale.
    """
    ids: set[uuid.UUID] = set()
    sessions: set[str] = set()
    intents: set[str] = set()
    charges: set[str] = set()
    for ref in refs:
        if ref.donation_id:
            ids.add(ref.donation_id)
        if ref.checkout_session_id:
            sessions.add(ref.checkout_session_id)
        if ref.payment_intent_id:
            intents.add(ref.payment_intent_id)
        if ref.charge_id:
            charges.add(ref.charge_id)
    locked = LockedDonations(searched={*ids, *sessions, *intents, *charges})
    conditions = [
        column.in_(values)
        for column, values in (
            (Donation.id, ids),
            (Donation.stripe_checkout_session_id, sessions),
            (Donation.stripe_payment_intent_id, intents),
            (Donation.stripe_charge_id, charges),
        )
        if values
    ]
    if conditions:
        found = await session.scalars(
            sa.select(Donation)
            .where(sa.or_(*conditions))
            .order_by(Donation.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        for donation in found:
            locked.add(donation)
    session.info[_LOCKED] = locked
    return locked


def forget_locked_donations(session: AsyncSession) -> None:
    session.info.pop(_LOCKED, None)


def note_stripe_ids(session: AsyncSession, donation: Donation) -> None:
    """A locked donation just learned a Stripe id: later lookups by that id must find it."""
    locked: LockedDonations | None = session.info.get(_LOCKED)
    if locked is not None:
        locked.add(donation)


async def lock_donation(session: AsyncSession, ref: DonationRef) -> Donation | None:
    """The donation the reference points at, row-locked until the transaction ends.

    The lock serialises sibling events (session completed, intent succeeded, charge succeeded)
    for one donation when several processors run at once. Donations locked in advance by
    lock_donations are answered from memory; anything else is looked up (and locked) here.
    """
    locked: LockedDonations | None = session.info.get(_LOCKED)
    if locked is not None and (known := locked.find(ref)) is not None:
        return known
    conditions: list[sa.ColumnElement[bool]] = []
    if ref.donation_id is not None:
        conditions.append(Donation.id == ref.donation_id)
    if ref.checkout_session_id:
        conditions.append(Donation.stripe_checkout_session_id == ref.checkout_session_id)
    if ref.payment_intent_id:
        conditions.append(Donation.stripe_payment_intent_id == ref.payment_intent_id)
    if ref.charge_id:
        conditions.append(Donation.stripe_charge_id == ref.charge_id)
    for condition in conditions:
        found = await session.scalar(
            sa.select(Donation).where(condition).with_for_update().execution_options(populate_existing=True)
        )
        if found is not None:
            if locked is not None:
                locked.add(found)
            return found
    return None


async def lock_campaign(session: AsyncSession, campaign_id: uuid.UUID) -> Campaign:
    """Locked so two donations settling at once cannot both write totals computed without the other."""
    campaign = await session.scalar(
        sa.select(Campaign)
        .where(Campaign.id == campaign_id)
        .with_for_update()
        .execution_options(populate_existing=True)
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
