"""Matching programs: created funded, terms frozen once they start, unspent budget returned at the end."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign
from campaigns.matching import pool
from campaigns.matching.errors import ProgramNotFound, ProgramStarted
from campaigns.matching.models import FunderKind, MatchingProgram, ProgramStatus
from campaigns.matching.schemas import ProgramIn, ProgramPatch
from service import audit
from service.auth.models import Admin
from service.errors import ValidationFailed
from service.pagination import after_cursor
from service.unit_of_work import UnitOfWork

# A clock skew allowance: "starts now" from an admin's browser is not retroactive.
_RETROACTIVE_SLACK = timedelta(minutes=5)


def _terms(program: MatchingProgram) -> dict[str, object]:
    return {
        "name": program.name,
        "budget_minor": program.budget_minor,
        "currency": program.currency,
        "starts_at": program.starts_at.isoformat(),
        "ends_at": program.ends_at.isoformat(),
        "policy": str(program.policy),
        "policy_params": program.policy_params,
        "per_donation_cap_minor": program.per_donation_cap_minor,
        "per_donor_cap_minor": program.per_donor_cap_minor,
        "per_campaign_cap_minor": program.per_campaign_cap_minor,
        "review_threshold_minor": program.review_threshold_minor,
        "recurring_rule": str(program.recurring_rule),
        "min_donation_minor": program.min_donation_minor,
        "hold_days": program.hold_days,
    }


async def create_program(
    session: UnitOfWork, *, admin: Admin, data: ProgramIn, now: datetime
) -> MatchingProgram:
    """A funded program: the budget moves from the funder's account into the pool at creation."""
    if data.starts_at < now - _RETROACTIVE_SLACK:
        raise ValidationFailed(
            {"starts_at": "a program cannot start in the past (terms are never retroactive)"}
        )
    await _check_campaigns(session, data)
    program = MatchingProgram(
        id=uuid.uuid4(),
        name=data.name,
        funder_kind=data.funder_kind,
        funder_name=data.funder_name
        if data.funder_kind is FunderKind.SPONSOR and data.funder_name
        else "Goodloop",
        currency=data.currency,
        budget_minor=data.budget_minor,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        campaign_ids=[str(c) for c in data.campaign_ids] if data.campaign_ids is not None else None,
        verified_nonprofits_only=data.verified_nonprofits_only,
        min_donation_minor=data.min_donation_minor,
        per_donation_cap_minor=data.per_donation_cap_minor,
        per_donor_cap_minor=data.per_donor_cap_minor,
        per_campaign_cap_minor=data.per_campaign_cap_minor,
        allow_partial=data.allow_partial,
        hold_days=data.hold_days,
        review_threshold_minor=data.review_threshold_minor,
        max_risk_score=data.max_risk_score,
        recurring_rule=data.recurring_rule,
        policy=data.policy.policy,
        policy_params=data.policy.model_dump(mode="json"),
        status=ProgramStatus.ACTIVE,
        held_minor=0,
        reserved_minor=0,
        paid_minor=0,
        recovered_minor=0,
        returned_minor=0,
        created_by_admin_id=admin.id,
    )
    session.add(program)
    await session.flush()
    await pool.fund(session, program)
    await _record(session, admin, program, action="matching_program.created", before=None)
    return program


async def _check_campaigns(session: AsyncSession, data: ProgramIn) -> None:
    if data.campaign_ids is None:
        return
    rows = (
        await session.execute(
            sa.select(Campaign.id, Campaign.currency).where(Campaign.id.in_(data.campaign_ids))
        )
    ).all()
    if len(rows) != len(set(data.campaign_ids)):
        raise ValidationFailed({"campaign_ids": "some of these campaigns do not exist"})
    if any(currency_code != data.currency for _, currency_code in rows):
        raise ValidationFailed(
            {"campaign_ids": f"every campaign must take donations in {data.currency.upper()}"}
        )


async def update_program(
    session: AsyncSession, *, admin: Admin, program_id: uuid.UUID, data: ProgramPatch, now: datetime
) -> MatchingProgram:
    program = await pool.lock_program(session, program_id)
    if program is None:
        raise ProgramNotFound("no such matching program")
    changes = data.model_dump(exclude_unset=True)
    terms = set(changes) - {"name"}
    if terms and program.starts_at <= now:
        raise ProgramStarted("the program has started: its terms cannot change (only its name can)")
    before = _terms(program)
    for field, value in changes.items():
        setattr(program, field, value)
    if program.ends_at <= program.starts_at:
        raise ValidationFailed({"ends_at": "ends_at must be after starts_at"})
    await _record(session, admin, program, action="matching_program.updated", before=before)
    return program


async def end_program(
    session: UnitOfWork, *, program: MatchingProgram, admin: Admin | None, now: datetime
) -> int:
    """Close a program (its window ended, or an admin ends it early); returns what went back to the funder."""
    before = _terms(program)
    if program.status is ProgramStatus.ACTIVE:
        program.status = ProgramStatus.ENDED
        program.ended_at = now
        if program.ends_at > now:
            program.ends_at = now
    returned = await pool.return_unspent(session, program)
    if before["ends_at"] != program.ends_at.isoformat() or returned or admin is not None:
        await _record(session, admin, program, action="matching_program.ended", before=before)
    return returned


async def end_program_now(
    session: UnitOfWork, *, admin: Admin, program_id: uuid.UUID, now: datetime
) -> MatchingProgram:
    program = await pool.lock_program(session, program_id)
    if program is None:
        raise ProgramNotFound("no such matching program")
    await end_program(session, program=program, admin=admin, now=now)
    return program


async def _record(
    session: AsyncSession,
    admin: Admin | None,
    program: MatchingProgram,
    *,
    action: str,
    before: dict[str, object] | None,
) -> None:
    await audit.record(
        session,
        actor=admin or audit.SystemActor("matching engine"),
        action=action,
        subject_type="matching_program",
        subject_id=str(program.id),
        before=before,
        after={**_terms(program), "status": str(program.status), "returned_minor": program.returned_minor},
    )


async def get_program(session: AsyncSession, program_id: uuid.UUID) -> MatchingProgram:
    program = await session.get(MatchingProgram, program_id)
    if program is None:
        raise ProgramNotFound("no such matching program")
    return program


async def list_programs(
    session: AsyncSession, *, status: ProgramStatus | None, limit: int, cursor: str | None
) -> list[MatchingProgram]:
    """Up to limit + 1 rows, so the caller can tell whether another page exists."""
    query = sa.select(MatchingProgram)
    if status is not None:
        query = query.where(MatchingProgram.status == status)
    query = after_cursor(query, MatchingProgram.created_at, MatchingProgram.id, cursor).limit(limit + 1)
    return list((await session.scalars(query)).all())
