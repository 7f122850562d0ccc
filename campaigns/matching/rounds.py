"""End-of-window work: quadratic rounds, final challenge results, closing programs, expired quotes.

Run by the worker. Each program is closed in its own transaction under its row lock (SKIP
LOCKED, so several workers share the work), and what it does is idempotent: a round's
matches are keyed per (program, campaign) and its published result per program.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.donations.models import SETTLED, Donation
from campaigns.matching import engine, identity, lifecycle, pool, programs
from campaigns.matching.eligibility import net_of_refunds, program_takes
from campaigns.matching.models import (
    DonationCluster,
    MatchingProgram,
    MatchQuote,
    Policy,
    ProgramStatus,
    QuoteStatus,
    RoundResultRecord,
)
from campaigns.matching.policies import QuadraticRoundParams
from campaigns.matching.quadratic import Contribution, RoundResult, allocate_round
from service.db import Database, insert_for
from service.unit_of_work import UnitOfWork
from service.worker import Job

VERIFIED_TRUST_BPS = 10_000
UNVERIFIED_TRUST_BPS = 5_000
"""A cluster no card has paid for (no fingerprint yet) counts for half in a round."""


async def close_program(session: UnitOfWork, program: MatchingProgram, *, now: datetime) -> None:
    """Final results of a program whose window has ended, then return what is left to the funder."""
    if program.status is ProgramStatus.ACTIVE:
        if program.policy is Policy.QUADRATIC_ROUND:
            await run_quadratic_round(session, program)
        elif program.policy is Policy.CHALLENGE_UNLOCK:
            for campaign_id in await _campaigns_with_gifts(session, program):
                ctx = await engine.context_of(session, campaign_id)
                await engine.check_challenge(session, program, ctx=ctx, at=now, final=True)
    await programs.end_program(session, program=program, admin=None, now=now)


async def _campaigns_with_gifts(session: AsyncSession, program: MatchingProgram) -> list[uuid.UUID]:
    query = (
        sa.select(Donation.campaign_id)
        .where(
            Donation.currency == program.currency,
            Donation.status.in_(SETTLED),
            Donation.created_at >= program.starts_at,
            Donation.created_at < program.ends_at,
        )
        .group_by(Donation.campaign_id)
        .order_by(Donation.campaign_id)
    )
    found = (await session.scalars(query)).all()
    return [c for c in found if program.campaign_ids is None or str(c) in program.campaign_ids]


async def round_contributions(session: AsyncSession, program: MatchingProgram) -> list[Contribution]:
    """Eligible settled gifts of the window, per donor cluster, with the cluster's trust weight."""
    rows = (
        await session.execute(
            sa.select(
                DonationCluster.cluster_id,
                Donation.campaign_id,
                Donation.nonprofit_id,
                Donation.amount_minor,
                Donation.refunded_minor,
                Donation.card_fingerprint,
            )
            .join(Donation, Donation.id == DonationCluster.donation_id)
            .where(
                Donation.currency == program.currency,
                Donation.status.in_(SETTLED),
                Donation.created_at >= program.starts_at,
                Donation.created_at < program.ends_at,
                Donation.early_fraud_warning.is_(False),
                sa.or_(Donation.risk_score.is_(None), Donation.risk_score <= program.max_risk_score),
                Donation.amount_minor >= program.min_donation_minor,
            )
        )
    ).all()
    eligible_campaigns = set(await _eligible_campaigns(session, program, {row.campaign_id for row in rows}))
    verified: set[uuid.UUID] = {row.cluster_id for row in rows if row.card_fingerprint}
    owners: set[tuple[uuid.UUID, uuid.UUID]] = set()
    for nonprofit_id in {row.nonprofit_id for row in rows}:
        clusters = {row.cluster_id for row in rows if row.nonprofit_id == nonprofit_id}
        linked = await identity.owner_linked_clusters(
            session, cluster_ids=clusters, nonprofit_id=nonprofit_id
        )
        owners |= {(cluster_id, nonprofit_id) for cluster_id in linked}
    out: list[Contribution] = []
    for row in rows:
        net = net_of_refunds(row.amount_minor, refunded_minor=row.refunded_minor)
        if (
            row.campaign_id not in eligible_campaigns
            or (row.cluster_id, row.nonprofit_id) in owners
            or net <= 0
        ):
            continue
        trust = VERIFIED_TRUST_BPS if row.cluster_id in verified else UNVERIFIED_TRUST_BPS
        out.append(Contribution(row.campaign_id, row.cluster_id, net, trust))
    return out


async def _eligible_campaigns(
    session: AsyncSession, program: MatchingProgram, campaign_ids: set[uuid.UUID]
) -> list[uuid.UUID]:
    eligible = []
    for campaign_id in sorted(campaign_ids):
        ctx = await engine.context_of(session, campaign_id)
        if program_takes(program, ctx) is None:
            eligible.append(campaign_id)
    return eligible


async def run_quadratic_round(session: UnitOfWork, program: MatchingProgram) -> RoundResult:
    """Split what the pool has by quadratic funding; publish the result with its inputs' hash."""
    params = QuadraticRoundParams.model_validate(program.policy_params)
    result = allocate_round(
        await round_contributions(session, program),
        budget_minor=program.available_minor,
        per_campaign_cap_minor=program.per_campaign_cap_minor,
        min_distinct_donors=params.min_distinct_donors,
    )
    for campaign_id, amount in result.allocations.items():
        if amount > 0:
            ctx = await engine.context_of(session, campaign_id)
            await engine.open_campaign_match(session, program, ctx=ctx, amount_minor=amount)
    await session.execute(
        insert_for(session, RoundResultRecord)
        .values(
            program_id=program.id,
            inputs_hash=result.inputs_hash,
            allocations={str(c): a for c, a in result.allocations.items()},
            unallocated_minor=result.unallocated_minor,
            computed_at=session.now(),
        )
        .on_conflict_do_nothing(index_elements=["program_id"])
    )
    return result


async def close_due_programs(database: Database) -> int:
    """The worker job: close programs past their window, one per transaction."""
    closed = 0
    while True:
        async with database.transaction() as session:
            now = session.now()
            program = await session.scalar(
                sa.select(MatchingProgram)
                .where(
                    sa.or_(
                        sa.and_(
                            MatchingProgram.status == ProgramStatus.ACTIVE, MatchingProgram.ends_at <= now
                        ),
                        # Voids after the end give budget back to the pool; it goes on to the funder.
                        sa.and_(MatchingProgram.status == ProgramStatus.ENDED, _available() > 0),
                    )
                )
                .order_by(MatchingProgram.id)
                .limit(1)
                .with_for_update(key_share=True, skip_locked=True)  # NO KEY UPDATE: docs/architecture.md
            )
            if program is None:
                return closed
            await close_program(session, program, now=now)
            closed += 1


def _available() -> sa.ColumnElement[int]:
    p = MatchingProgram
    return (
        p.budget_minor - p.held_minor - p.reserved_minor - p.paid_minor + p.recovered_minor - p.returned_minor
    )


async def release_expired_quotes(
    session: UnitOfWork, *, now: datetime, grace: timedelta = timedelta(hours=1)
) -> int:
    """Quotes whose checkout can no longer complete (no expiry event came): back to the pool."""
    expired = MatchQuote.status == QuoteStatus.HELD, MatchQuote.expires_at < now - grace
    program_ids = (await session.scalars(sa.select(MatchQuote.program_id).where(*expired).distinct())).all()
    if not program_ids:
        return 0
    # Programs before quotes: the order every other path locks them in.
    locked = await pool.lock_programs(session, program_ids)
    quotes = (
        await session.scalars(
            sa.select(MatchQuote)
            .where(*expired)
            .order_by(MatchQuote.id)
            .limit(500)
            .with_for_update(key_share=True, skip_locked=True)  # NO KEY UPDATE: docs/architecture.md
        )
    ).all()
    for quote in quotes:
        if quote.program_id in locked:
            await engine.release_quote(session, locked[quote.program_id], quote)
    return len(quotes)


async def run_matching_chores(database: Database) -> int:
    """The worker job: holds that ended, expired quotes, programs past their window."""
    async with database.transaction() as session:
        done = await lifecycle.release_due_matches(session, now=session.now())
    # A transaction of its own: it locks its own programs, and a second lock_programs in one
    # transaction could take a program before one of lower id (docs/architecture.md).
    async with database.transaction() as session:
        done += await release_expired_quotes(session, now=session.now())
    return done + await close_due_programs(database)


JOB = Job("matching_chores", run_matching_chores, timedelta(seconds=30))
