"""Match lifecycle after reservation, along its edges only:

    pending --(hold ends, no signal)--> approved --(payout)--> paid --(refund)--> clawed back
    pending --(hold ends, signals)--> held_for_review --(approve)--> approved
    pending | held_for_review | approved --(reject, refund, dispute)--> voided

Every transition is locked (program first, then match: the order the webhook path uses), moves
the ledger where money moves, and leaves an audit-log entry.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.donations.models import Donation
from campaigns.matching import engine, pool, repository, risk
from campaigns.matching.errors import IllegalMatchTransition, MatchNotFound, OwnOrganisation
from campaigns.matching.journal import note
from campaigns.matching.models import Match, MatchingProgram, MatchStatus
from campaigns.nonprofits.models import Member
from service.auth.models import Admin
from service.pagination import after_cursor

EDGES: dict[MatchStatus, frozenset[MatchStatus]] = {
    MatchStatus.PENDING: frozenset({MatchStatus.HELD_FOR_REVIEW, MatchStatus.APPROVED, MatchStatus.VOIDED}),
    MatchStatus.HELD_FOR_REVIEW: frozenset({MatchStatus.APPROVED, MatchStatus.VOIDED}),
    MatchStatus.APPROVED: frozenset({MatchStatus.PAID, MatchStatus.VOIDED}),
    MatchStatus.PAID: frozenset(),
    MatchStatus.VOIDED: frozenset(),
}


def _check_edge(match: Match, target: MatchStatus) -> None:
    if target not in EDGES[match.status]:
        raise IllegalMatchTransition(f"a {match.status} match cannot become {target}")


async def _lock(session: AsyncSession, match_id: uuid.UUID) -> tuple[MatchingProgram, Match]:
    program_id = await session.scalar(sa.select(Match.program_id).where(Match.id == match_id))
    if program_id is None:
        raise MatchNotFound("no such match")
    program = await pool.lock_program(session, program_id)
    match = await repository.lock_match(session, match_id)
    assert program is not None and match is not None
    return program, match


async def _refuse_own_organisation(session: AsyncSession, admin: Admin, match: Match) -> None:
    """Nobody decides on a match for an organisation they belong to (same login email)."""
    member = await session.scalar(
        sa.select(Member.id).where(
            Member.nonprofit_id == match.nonprofit_id, sa.func.lower(Member.email) == admin.email.lower()
        )
    )
    if member is not None:
        raise OwnOrganisation("you belong to this nonprofit, so another admin must decide on its matches")


async def approve_match(
    session: AsyncSession, *, admin: Admin, match_id: uuid.UUID, note_text: str | None
) -> Match:
    _, match = await _lock(session, match_id)
    await _refuse_own_organisation(session, admin, match)
    _check_edge(match, MatchStatus.APPROVED)
    before = match.status
    match.status = MatchStatus.APPROVED
    match.decided_by_admin_id = admin.id
    match.decision_note = note_text
    note(session, match, action="match.approved", before=before, note=note_text, admin=admin)
    return match


async def reject_match(session: AsyncSession, *, admin: Admin, match_id: uuid.UUID, note_text: str) -> Match:
    program, match = await _lock(session, match_id)
    await _refuse_own_organisation(session, admin, match)
    _check_edge(match, MatchStatus.VOIDED)
    await engine.void_match(session, program, match, reason="rejected", admin=admin, note_text=note_text)
    return match


async def record_payout(session: AsyncSession, *, match_id: uuid.UUID, at: datetime) -> Match:
    """An approved match's money reached the nonprofit (the payout flow calls this on confirmation)."""
    program, match = await _lock(session, match_id)
    if match.status is MatchStatus.PAID:
        return match
    _check_edge(match, MatchStatus.PAID)
    before = match.status
    await pool.pay(session, program, match)
    match.status = MatchStatus.PAID
    match.paid_at = at
    note(session, match, action="match.paid", before=before)
    return match


async def release_due_matches(session: AsyncSession, *, now: datetime, limit: int = 200) -> int:
    """Matches whose hold ended: look at the risk again, then approve or hold for review."""
    rows = (
        await session.execute(
            sa.select(Match.id, Match.program_id)
            .where(Match.status == MatchStatus.PENDING, Match.hold_until <= now)
            .order_by(Match.hold_until, Match.id)
            .limit(limit)
        )
    ).all()
    if not rows:
        return 0
    programs = await pool.lock_programs(session, (program_id for _, program_id in rows))
    done = 0
    for match_id, program_id in rows:
        match = await repository.lock_match(session, match_id)
        if match is None or match.status is not MatchStatus.PENDING:
            continue
        await _end_hold(session, programs[program_id], match, now=now)
        done += 1
    return done


async def _end_hold(session: AsyncSession, program: MatchingProgram, match: Match, *, now: datetime) -> None:
    ctx = await engine.context_of(session, match.campaign_id)
    donation = await session.get(Donation, match.donation_id) if match.donation_id else None
    signals = await risk.assess(
        session,
        program=program,
        donation=donation,
        amount_minor=match.amount_minor,
        nonprofit=ctx.nonprofit,
        at=now,
    )
    # Signals seen at reservation stay on the record even if the burst that raised them has passed.
    known = {r["code"] for r in match.risk_reasons}
    match.risk_reasons = match.risk_reasons + [s.as_json() for s in signals if s.code not in known]
    before = match.status
    weight = sum(int(r["weight"]) for r in match.risk_reasons)
    match.status = MatchStatus.HELD_FOR_REVIEW if weight >= risk.REVIEW_SCORE else MatchStatus.APPROVED
    action = "match.held_for_review" if match.status is MatchStatus.HELD_FOR_REVIEW else "match.approved"
    note(session, match, action=action, before=before, note="hold period ended")


async def list_matches(
    session: AsyncSession,
    *,
    status: MatchStatus | None,
    program_id: uuid.UUID | None,
    campaign_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> list[Match]:
    query = sa.select(Match)
    if status is not None:
        query = query.where(Match.status == status)
    if program_id is not None:
        query = query.where(Match.program_id == program_id)
    if campaign_id is not None:
        query = query.where(Match.campaign_id == campaign_id)
    query = after_cursor(query, Match.created_at, Match.id, cursor).limit(limit + 1)
    return list((await session.scalars(query)).all())
