"""Named queries for matching: programs that apply, what a pool has given, clusters counted."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.donations.models import SETTLED, Donation
from campaigns.matching.models import (
    DonationCluster,
    Match,
    MatchingProgram,
    MatchQuote,
    MatchStatus,
    ProgramStatus,
    QuoteStatus,
)
from service.db import locked_rows
from service.unit_of_work import UnitOfWork

LIVE = (MatchStatus.PENDING, MatchStatus.HELD_FOR_REVIEW, MatchStatus.APPROVED, MatchStatus.PAID)


async def programs_for(
    session: AsyncSession, *, currency: str, campaign_id: uuid.UUID, at: datetime
) -> list[MatchingProgram]:
    """Active programs in this currency whose window contains `at` and that take the campaign."""
    rows = await session.scalars(
        sa.select(MatchingProgram)
        .where(
            MatchingProgram.status == ProgramStatus.ACTIVE,
            MatchingProgram.currency == currency,
            MatchingProgram.starts_at <= at,
            MatchingProgram.ends_at > at,
        )
        .order_by(MatchingProgram.id)
    )
    return [p for p in rows if p.campaign_ids is None or str(campaign_id) in p.campaign_ids]


async def program_ids_touching(
    session: UnitOfWork, *, donations: Sequence[Donation], match_ids: Sequence[uuid.UUID] = ()
) -> set[uuid.UUID]:
    """Every program that events about these donations (or these matches) may lock: the programs
    of their matches and quotes, and every active program that could match them (the engine's
    candidates for each gift). A superset is harmless; a program missed would be locked late."""
    donation_ids = [d.id for d in donations]
    if not donation_ids and not match_ids:
        return set()
    found = await session.scalars(
        sa.union(
            sa.select(Match.program_id).where(
                sa.or_(Match.donation_id.in_(donation_ids), Match.id.in_(list(match_ids)))
            ),
            sa.select(MatchQuote.program_id).where(MatchQuote.donation_id.in_(donation_ids)),
        )
    )
    ids = set(found.all())
    if not donations or not await any_program(session):
        return ids
    active = await session.scalars(
        sa.select(MatchingProgram).where(
            MatchingProgram.status == ProgramStatus.ACTIVE,
            MatchingProgram.currency.in_({d.currency for d in donations}),
        )
    )
    for program in active:
        for donation in donations:
            if _could_match(program, donation):
                ids.add(program.id)
                break
    return ids


def _could_match(program: MatchingProgram, donation: Donation) -> bool:
    """programs_for's test for one gift (currency, window at the gift's creation, campaign)."""
    return (
        program.currency == donation.currency
        and program.starts_at <= donation.created_at < program.ends_at
        and (program.campaign_ids is None or str(donation.campaign_id) in program.campaign_ids)
    )


async def matches_of_donation(
    session: AsyncSession, donation_id: uuid.UUID, *, lock: bool = False
) -> Sequence[Match]:
    """A donation's matches; lock them only after their programs (the order every path uses)."""
    query = sa.select(Match).where(Match.donation_id == donation_id).order_by(Match.program_id)
    return await locked_rows(session, query) if lock else (await session.scalars(query)).all()


async def get_match(session: AsyncSession, *, program_id: uuid.UUID, key: str) -> Match | None:
    return await session.scalar(sa.select(Match).where(Match.key == key, Match.program_id == program_id))


async def lock_match(session: AsyncSession, match_id: uuid.UUID) -> Match | None:
    """The match, locked after its program (docs/architecture.md, "Lock order")."""
    found = await locked_rows(session, sa.select(Match).where(Match.id == match_id))
    return found[0] if found else None


async def cluster_matches(
    session: AsyncSession, *, program_id: uuid.UUID, cluster_id: uuid.UUID
) -> Sequence[Match]:
    """A donor cluster's live matches in a program, oldest first, locked (program already locked)."""
    query = (
        sa.select(Match)
        .where(Match.program_id == program_id, Match.cluster_id == cluster_id, Match.status.in_(LIVE))
        .order_by(Match.created_at, Match.id)
    )
    return await locked_rows(session, query)


async def held_quotes(
    session: AsyncSession, donation_id: uuid.UUID, *, lock: bool = False
) -> Sequence[MatchQuote]:
    query = (
        sa.select(MatchQuote)
        .where(MatchQuote.donation_id == donation_id, MatchQuote.status == QuoteStatus.HELD)
        .order_by(MatchQuote.program_id)
    )
    return await locked_rows(session, query) if lock else (await session.scalars(query)).all()


async def any_program(session: UnitOfWork) -> bool:
    """Whether any program was ever created; cached for the transaction (programs are never deleted).

    Most deployments' webhooks run with no program in their currency: this keeps the
    matching hooks from costing the webhook worker a query per event.
    """
    cached = session.any_matching_program
    if cached is None:
        # A program created while this transaction runs is seen by the next one; a donation
        # it misses here was made before any program could have quoted it a match.
        cached = await session.scalar(sa.select(MatchingProgram.id).limit(1)) is not None
        session.any_matching_program = cached
    return cached


async def committed_minor(
    session: AsyncSession,
    *,
    program_id: uuid.UUID,
    campaign_id: uuid.UUID | None = None,
    cluster_id: uuid.UUID | None = None,
    referrer_cluster_id: uuid.UUID | None = None,
    exclude_donation_id: uuid.UUID | None = None,
) -> int:
    """Live matches plus held quotes of a program, for one campaign / cluster / referrer.

    Read under the program's lock, so the sum cannot change underneath the caller.
    """
    matched = sa.select(sa.func.coalesce(sa.func.sum(Match.amount_minor - Match.recovered_minor), 0)).where(
        Match.program_id == program_id, Match.status.in_(LIVE)
    )
    quoted = sa.select(sa.func.coalesce(sa.func.sum(MatchQuote.amount_minor), 0)).where(
        MatchQuote.program_id == program_id, MatchQuote.status == QuoteStatus.HELD
    )
    if campaign_id is not None:
        matched = matched.where(Match.campaign_id == campaign_id)
        quoted = quoted.where(MatchQuote.campaign_id == campaign_id)
    if cluster_id is not None:
        matched = matched.where(Match.cluster_id == cluster_id)
        quoted = quoted.where(MatchQuote.cluster_id == cluster_id)
    if referrer_cluster_id is not None:
        matched = matched.where(Match.referrer_cluster_id == referrer_cluster_id)
        quoted = quoted.where(sa.false())
    if exclude_donation_id is not None:
        matched = matched.where(Match.donation_id.is_distinct_from(exclude_donation_id))
        quoted = quoted.where(MatchQuote.donation_id != exclude_donation_id)
    return int(await session.scalar(matched) or 0) + int(await session.scalar(quoted) or 0)


async def settled_clusters(
    session: AsyncSession,
    *,
    campaign_id: uuid.UUID,
    since: datetime,
    until: datetime,
    referred_only: bool = False,
) -> dict[uuid.UUID, int]:
    """Settled gifts to a campaign in a window, per donor cluster (minor units, net of refunds)."""
    query = (
        sa.select(DonationCluster.cluster_id, Donation.amount_minor, Donation.refunded_minor)
        .join(Donation, Donation.id == DonationCluster.donation_id)
        .where(
            DonationCluster.campaign_id == campaign_id,
            Donation.status.in_(SETTLED),
            Donation.created_at >= since,
            Donation.created_at < until,
            Donation.early_fraud_warning.is_(False),
        )
    )
    if referred_only:
        query = query.where(Donation.referral_link_id.is_not(None))
    totals: dict[uuid.UUID, int] = {}
    for cluster_id, amount, refunded in await session.execute(query):
        totals[cluster_id] = totals.get(cluster_id, 0) + max(amount - refunded, 0)
    return totals


async def donations_in_cluster(
    session: AsyncSession, *, cluster_id: uuid.UUID, campaign_id: uuid.UUID, exclude: uuid.UUID
) -> int:
    count = await session.scalar(
        sa.select(sa.func.count())
        .select_from(DonationCluster)
        .join(Donation, Donation.id == DonationCluster.donation_id)
        .where(
            DonationCluster.cluster_id == cluster_id,
            DonationCluster.campaign_id == campaign_id,
            DonationCluster.donation_id != exclude,
            Donation.status.in_(SETTLED),
        )
    )
    return int(count or 0)
