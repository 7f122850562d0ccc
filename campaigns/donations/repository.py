"""Named donation queries: find and lock by our id or any Stripe id; campaign totals."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

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


async def lock_donation(session: AsyncSession, ref: DonationRef) -> Donation | None:
    """The donation the reference points at, row-locked until the transaction ends.

    The lock serialises sibling events (session completed, intent succeeded, charge succeeded)
    for one donation when several processors run at once.
    """
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
