"""Match lifecycle after reservation: what each step of the state machine does.

The edges, and the one function that moves a match along them, are in
campaigns/matching/status.py; this module decides when a step is taken and what it does to the
pool, the ledger and the audit log.

Approvals are rows (one per admin per match, unique): a match at or above its program's review
threshold needs two, from two different admins, and always waits for people after its hold.
Nobody decides on a match of an organisation they belong to.

Every transition is locked (program first, then match: the order the webhook path uses), moves
the ledger where money moves, and leaves an audit-log entry.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.donations.models import Donation
from campaigns.matching import announcements, engine, hooks, pool, repository, risk, risk_settings
from campaigns.matching import status as machine
from campaigns.matching.errors import (
    AlreadyApproved,
    AppealNotAllowed,
    MatchNotFound,
    OwnOrganisation,
    PoolExhausted,
)
from campaigns.matching.journal import note
from campaigns.matching.models import Match, MatchApproval, MatchingProgram, MatchStatus
from campaigns.matching.risk_settings import RiskConfig
from campaigns.nonprofits.actors import Actor
from campaigns.nonprofits.models import Member, MemberRole
from service.auth.models import Admin
from service.db import add_unique
from service.pagination import after_cursor
from service.unit_of_work import UnitOfWork

APPEAL_MAX_CHARS = 2000


async def _lock(session: AsyncSession, match_id: uuid.UUID) -> tuple[MatchingProgram, Match]:
    program_id = await session.scalar(sa.select(Match.program_id).where(Match.id == match_id))
    if program_id is None:
        raise MatchNotFound("no such match")
    program = await pool.lock_program(session, program_id)
    match = await repository.lock_match(session, match_id)
    assert program is not None and match is not None
    return program, match


async def belongs_to_nonprofit(session: AsyncSession, *, admin: Admin, nonprofit_id: uuid.UUID) -> bool:
    """Whether the admin is one of the nonprofit's people (the same login email as a member)."""
    member = await session.scalar(
        sa.select(Member.id).where(
            Member.nonprofit_id == nonprofit_id, sa.func.lower(Member.email) == admin.email.lower()
        )
    )
    return member is not None


async def _refuse_own_organisation(session: AsyncSession, admin: Admin, match: Match) -> None:
    """Nobody decides on a match for an organisation they belong to."""
    if await belongs_to_nonprofit(session, admin=admin, nonprofit_id=match.nonprofit_id):
        raise OwnOrganisation("you belong to this nonprofit, so another admin must decide on its matches")


def approvals_required(program: MatchingProgram, match: Match) -> int:
    """Two people for a match at or above the program's review threshold, one otherwise."""
    threshold = program.review_threshold_minor
    return 2 if threshold is not None and match.amount_minor >= threshold else 1


def decision_round(match: Match) -> int:
    """0 for the first decision, 1 once the nonprofit appealed (approvals start over)."""
    return 0 if match.appealed_at is None else 1


async def list_approvals(session: AsyncSession, match: Match) -> list[MatchApproval]:
    """The approvals counting towards the match's current decision."""
    query = sa.select(MatchApproval).where(
        MatchApproval.match_id == match.id, MatchApproval.round == decision_round(match)
    )
    return list((await session.scalars(query.order_by(MatchApproval.created_at, MatchApproval.id))).all())


async def approve_match(
    session: UnitOfWork, *, admin: Admin, match_id: uuid.UUID, note_text: str | None
) -> Match:
    """Record the admin's approval; the match is approved once it has as many as it needs."""
    program, match = await _lock(session, match_id)
    await _refuse_own_organisation(session, admin, match)
    await _record_approval(session, admin=admin, program=program, match=match, note_text=note_text)
    return match


async def _record_approval(
    session: UnitOfWork, *, admin: Admin, program: MatchingProgram, match: Match, note_text: str | None
) -> None:
    """The approval of a locked match by an admin already known not to belong to its nonprofit."""
    machine.check_transition(match, MatchStatus.APPROVED)
    approvals = await list_approvals(session, match)
    already = AlreadyApproved(
        "you already approved this match; the second approval must come from a different admin"
    )
    if any(a.admin_id == admin.id for a in approvals):
        raise already
    # The unique (match, round, admin) constraint decides a race between two tabs of one admin.
    await add_unique(
        session,
        MatchApproval(match_id=match.id, round=decision_round(match), admin_id=admin.id, note=note_text),
        already,
    )
    given, required = len(approvals) + 1, approvals_required(program, match)
    before = match.status
    if given >= required:
        machine.move(match, MatchStatus.APPROVED)
        match.decided_by_admin_id = admin.id
        match.decision_note = note_text
    note(
        session,
        match,
        action="match.approved" if given >= required else "match.approval_recorded",
        before=before,
        note=note_text,
        admin=admin,
        extra_after={"approvals": given, "approvals_required": required},
    )
    if given >= required:
        await announcements.announce_approved(session, match, approvals=given)


@dataclass
class BulkOutcome:
    approved: list[uuid.UUID] = field(default_factory=list)
    skipped: dict[uuid.UUID, str] = field(default_factory=dict)


async def bulk_approve(
    session: UnitOfWork, *, admin: Admin, match_ids: Sequence[uuid.UUID], note_text: str | None
) -> BulkOutcome:
    """Approve the low-risk ones among `match_ids`; say why each other one was left for a person."""
    outcome = BulkOutcome()
    wanted = list(dict.fromkeys(match_ids))
    rows = (await session.execute(sa.select(Match.id, Match.program_id).where(Match.id.in_(wanted)))).all()
    found = dict(rows)
    for match_id in wanted:
        if match_id not in found:
            outcome.skipped[match_id] = "There is no such match."
    programs = await pool.lock_programs(session, found.values())
    for match_id in wanted:
        if match_id not in found:
            continue
        match = await repository.lock_match(session, match_id)
        assert match is not None
        program = programs[found[match_id]]
        reason = await _bulk_refusal(session, admin=admin, program=program, match=match)
        if reason is not None:
            outcome.skipped[match_id] = reason
            continue
        await _record_approval(session, admin=admin, program=program, match=match, note_text=note_text)
        outcome.approved.append(match_id)
    return outcome


async def _bulk_refusal(
    session: AsyncSession, *, admin: Admin, program: MatchingProgram, match: Match
) -> str | None:
    try:
        await _refuse_own_organisation(session, admin, match)
    except OwnOrganisation:
        return "You belong to this nonprofit: another admin must decide."
    if match.status not in (MatchStatus.PENDING, MatchStatus.HELD_FOR_REVIEW):
        return f"It is {match.status}, not waiting for a decision."
    if approvals_required(program, match) > 1:
        return "It is at or above the program's review threshold: two admins must approve it one by one."
    if not risk.is_low_risk(match.risk_reasons):
        return "Its risk signals are too strong for a bulk decision: open it and decide on its own."
    return None


async def reject_match(session: UnitOfWork, *, admin: Admin, match_id: uuid.UUID, note_text: str) -> Match:
    program, match = await _lock(session, match_id)
    await _refuse_own_organisation(session, admin, match)
    machine.check_transition(match, MatchStatus.VOIDED)
    await engine.void_match(session, program, match, reason="rejected", admin=admin, note_text=note_text)
    return match


async def appeal_match(session: UnitOfWork, *, actor: Actor, match_id: uuid.UUID, message: str) -> Match:
    """A nonprofit contests a rejection, once: the match is reserved again and goes back to people.

    The reservation comes back only if the pool still has the money; a match the pool can no
    longer cover cannot be appealed (409), so an appeal can never overspend a program.
    """
    actor.require(MemberRole.EDITOR)
    program_id = await session.scalar(
        sa.select(Match.program_id).where(Match.id == match_id, Match.nonprofit_id == actor.nonprofit_id)
    )
    if program_id is None:
        raise MatchNotFound("no such match")  # another tenant's match looks exactly like none
    program, match = await _lock(session, match_id)
    if match.status is not MatchStatus.VOIDED or match.void_reason != "rejected":
        raise AppealNotAllowed("only a match an admin rejected can be appealed")
    if match.appealed_at is not None:
        raise AppealNotAllowed(
            "this rejection was already appealed once; the decision on the appeal is final"
        )
    if await _transfer_was_sent(session, match):
        # Its one transfer (match:{id}:transfer) went out and was reversed; paying it again
        # would need a second transfer, which the outbox never makes for one match.
        raise AppealNotAllowed(
            "this match was already transferred to your Stripe account and reversed; contact Goodloop support"
        )
    if program.available_minor < match.amount_minor:
        raise PoolExhausted("the matching program has no budget left to cover this match again")
    machine.check_transition(match, MatchStatus.HELD_FOR_REVIEW)
    match.revision += 1
    await pool.reserve(session, program, match)
    before = machine.move(match, MatchStatus.HELD_FOR_REVIEW)
    match.void_reason = None
    match.appeal_message = message
    match.appealed_at = session.now()
    # A new decision round: approvals given before the rejection stay as history but do not count.
    note(session, match, action="match.appealed", before=before, note=message, member=actor)
    return match


async def _transfer_was_sent(session: AsyncSession, match: Match) -> bool:
    return await hooks.transfers().transfer_was_sent(session, match.id)


async def record_payout(session: UnitOfWork, *, match_id: uuid.UUID, at: datetime) -> Match:
    """An approved match's money reached the nonprofit (the payout flow calls this on confirmation)."""
    program, match = await _lock(session, match_id)
    if match.status is MatchStatus.PAID:
        return match
    machine.check_transition(match, MatchStatus.PAID)
    await pool.pay(session, program, match)
    before = machine.move(match, MatchStatus.PAID)
    match.paid_at = at
    note(session, match, action="match.paid", before=before)
    await announcements.announce_paid(session, match)
    return match


async def release_due_matches(session: UnitOfWork, *, now: datetime, limit: int = 200) -> int:
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
    config = await risk_settings.load(session)
    done = 0
    for match_id, program_id in rows:
        match = await repository.lock_match(session, match_id)
        if match is None or match.status is not MatchStatus.PENDING:
            continue
        await _end_hold(session, programs[program_id], match, now=now, config=config)
        done += 1
    return done


async def _end_hold(
    session: UnitOfWork, program: MatchingProgram, match: Match, *, now: datetime, config: RiskConfig
) -> None:
    ctx = await engine.context_of(session, match.campaign_id)
    donation = await session.get(Donation, match.donation_id) if match.donation_id else None
    weight = await engine.refresh_risk(
        session, program, match, donation=donation, ctx=ctx, at=now, config=config
    )
    # Large matches always wait for two people, whatever the signals' weights are set to.
    needs_people = weight >= risk.REVIEW_SCORE or approvals_required(program, match) > 1
    before = machine.move(match, MatchStatus.HELD_FOR_REVIEW if needs_people else MatchStatus.APPROVED)
    action = "match.held_for_review" if match.status is MatchStatus.HELD_FOR_REVIEW else "match.approved"
    note(session, match, action=action, before=before, note="hold period ended")
    if match.status is MatchStatus.APPROVED:
        await announcements.announce_approved(session, match, approvals=0)


async def list_matches(
    session: AsyncSession,
    *,
    status: MatchStatus | None,
    program_id: uuid.UUID | None,
    campaign_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
    nonprofit_id: uuid.UUID | None = None,
) -> list[Match]:
    """Matches, newest last; with `nonprofit_id`, only that tenant's (the nonprofit's own view)."""
    query = sa.select(Match)
    if nonprofit_id is not None:
        query = query.where(Match.nonprofit_id == nonprofit_id)
    if status is not None:
        query = query.where(Match.status == status)
    if program_id is not None:
        query = query.where(Match.program_id == program_id)
    if campaign_id is not None:
        query = query.where(Match.campaign_id == campaign_id)
    query = after_cursor(query, Match.created_at, Match.id, cursor).limit(limit + 1)
    return list((await session.scalars(query)).all())
