"""Admin JSON API of matching: programs (finance) and the match review queue (reviewers)."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response

from campaigns.matching import lifecycle, programs
from campaigns.matching.models import Match, MatchingProgram
from campaigns.matching.schemas import (
    DecisionIn,
    MatchList,
    MatchOut,
    MatchQuery,
    PoolOut,
    ProgramIn,
    ProgramList,
    ProgramOut,
    ProgramPatch,
    ProgramQuery,
    RejectIn,
)
from service.auth.models import AdminRole
from service.pagination import next_cursor
from service.unit_of_work import UnitOfWork
from service.web.api import ApiRoutes, Operation, json_response, parse_json, parse_query
from service.web.context import database
from service.web.guards import api_admin

FINANCE = (AdminRole.FINANCE, AdminRole.SUPERADMIN)
REVIEW = (AdminRole.REVIEWER, AdminRole.SUPERADMIN)


def program_out(program: MatchingProgram) -> ProgramOut:
    return ProgramOut(
        id=program.id,
        name=program.name,
        funder_kind=program.funder_kind,
        funder_name=program.funder_name,
        currency=program.currency,
        starts_at=program.starts_at,
        ends_at=program.ends_at,
        status=program.status,
        campaign_ids=[uuid.UUID(c) for c in program.campaign_ids]
        if program.campaign_ids is not None
        else None,
        verified_nonprofits_only=program.verified_nonprofits_only,
        min_donation_minor=program.min_donation_minor,
        per_donation_cap_minor=program.per_donation_cap_minor,
        per_donor_cap_minor=program.per_donor_cap_minor,
        per_campaign_cap_minor=program.per_campaign_cap_minor,
        allow_partial=program.allow_partial,
        hold_days=program.hold_days,
        review_threshold_minor=program.review_threshold_minor,
        max_risk_score=program.max_risk_score,
        recurring_rule=program.recurring_rule,
        policy=program.policy,
        policy_params=program.policy_params,
        pool=PoolOut(
            budget_minor=program.budget_minor,
            available_minor=program.available_minor,
            held_minor=program.held_minor,
            reserved_minor=program.reserved_minor,
            paid_minor=program.paid_minor,
            recovered_minor=program.recovered_minor,
            returned_minor=program.returned_minor,
        ),
        created_at=program.created_at,
        ended_at=program.ended_at,
    )


def match_out(match: Match) -> MatchOut:
    return MatchOut.model_validate(match, from_attributes=True)


async def create_program(request: Request) -> Response:
    data = await parse_json(request, ProgramIn)
    async with database(request).transaction() as session:
        admin = await api_admin(request, session, *FINANCE)
        program = await programs.create_program(session, admin=admin, data=data, now=session.now())
    return json_response(program_out(program), 201)


async def list_programs(request: Request) -> Response:
    query = parse_query(request, ProgramQuery)
    async with database(request).transaction() as session:
        await api_admin(request, session, *FINANCE, AdminRole.REVIEWER)
        rows = await programs.list_programs(
            session, status=query.status, limit=query.limit, cursor=query.cursor
        )
    page = ProgramList(
        data=[program_out(p) for p in rows[: query.limit]], next_cursor=next_cursor(rows, query.limit)
    )
    return json_response(page)


async def get_program(request: Request) -> Response:
    program_id: uuid.UUID = request.path_params["program_id"]
    async with database(request).transaction() as session:
        await api_admin(request, session, *FINANCE, AdminRole.REVIEWER)
        program = await programs.get_program(session, program_id)
    return json_response(program_out(program))


async def update_program(request: Request) -> Response:
    program_id: uuid.UUID = request.path_params["program_id"]
    data = await parse_json(request, ProgramPatch)
    async with database(request).transaction() as session:
        admin = await api_admin(request, session, *FINANCE)
        program = await programs.update_program(
            session, admin=admin, program_id=program_id, data=data, now=session.now()
        )
    return json_response(program_out(program))


async def end_program(request: Request) -> Response:
    program_id: uuid.UUID = request.path_params["program_id"]
    async with database(request).transaction() as session:
        admin = await api_admin(request, session, *FINANCE)
        program = await programs.end_program_now(
            session, admin=admin, program_id=program_id, now=session.now()
        )
    return json_response(program_out(program))


async def list_matches(request: Request) -> Response:
    query = parse_query(request, MatchQuery)
    async with database(request).transaction() as session:
        await api_admin(request, session, *REVIEW, AdminRole.FINANCE)
        rows = await lifecycle.list_matches(
            session,
            status=query.status,
            program_id=query.program_id,
            campaign_id=query.campaign_id,
            limit=query.limit,
            cursor=query.cursor,
        )
    page = MatchList(
        data=[match_out(m) for m in rows[: query.limit]], next_cursor=next_cursor(rows, query.limit)
    )
    return json_response(page)


async def approve_match(request: Request) -> Response:
    match_id: uuid.UUID = request.path_params["match_id"]
    data = await parse_json(request, DecisionIn)

    # One unit of work, run again whole on a deadlock (docs/architecture.md, "Transactions and retries").
    async def decide(session: UnitOfWork) -> Match:
        admin = await api_admin(request, session, *REVIEW)
        return await lifecycle.approve_match(session, admin=admin, match_id=match_id, note_text=data.note)

    match = await database(request).run("approve_match", decide)
    return json_response(match_out(match))


async def reject_match(request: Request) -> Response:
    match_id: uuid.UUID = request.path_params["match_id"]
    data = await parse_json(request, RejectIn)

    async def decide(session: UnitOfWork) -> Match:
        admin = await api_admin(request, session, *REVIEW)
        return await lifecycle.reject_match(session, admin=admin, match_id=match_id, note_text=data.note)

    match = await database(request).run("reject_match", decide)
    return json_response(match_out(match))


def build() -> ApiRoutes:
    api = ApiRoutes()
    tag = "admin"
    reads = (400, 401, 403, 422)
    writes = (400, 401, 403, 404, 409, 422)
    programs_path = "/admin/matching-programs"
    one_program = f"{programs_path}/{{program_id:uuid}}"
    for endpoint, operation in (
        (
            create_program,
            Operation(
                "POST",
                programs_path,
                "Create a funded matching program",
                tag,
                body=ProgramIn,
                response=ProgramOut,
                errors=writes,
                status_code=201,
            ),
        ),
        (
            list_programs,
            Operation(
                "GET",
                programs_path,
                "Matching programs, oldest first",
                tag,
                query=ProgramQuery,
                response=ProgramList,
                errors=reads,
            ),
        ),
        (
            get_program,
            Operation(
                "GET",
                one_program,
                "One matching program and its pool",
                tag,
                response=ProgramOut,
                errors=(401, 403, 404),
            ),
        ),
        (
            update_program,
            Operation(
                "PATCH",
                one_program,
                "Change a program that has not started",
                tag,
                body=ProgramPatch,
                response=ProgramOut,
                errors=writes,
            ),
        ),
        (
            end_program,
            Operation(
                "POST",
                f"{one_program}/end",
                "End a program now; unspent budget returns",
                tag,
                response=ProgramOut,
                errors=(401, 403, 404),
            ),
        ),
        (
            list_matches,
            Operation(
                "GET",
                "/admin/matches",
                "Matches by status, program or campaign",
                tag,
                query=MatchQuery,
                response=MatchList,
                errors=reads,
            ),
        ),
        (
            approve_match,
            Operation(
                "POST",
                "/admin/matches/{match_id:uuid}/approve",
                "Approve a match",
                tag,
                body=DecisionIn,
                response=MatchOut,
                errors=writes,
            ),
        ),
        (
            reject_match,
            Operation(
                "POST",
                "/admin/matches/{match_id:uuid}/reject",
                "Reject a match (note required)",
                tag,
                body=RejectIn,
                response=MatchOut,
                errors=writes,
            ),
        ),
    ):
        api.add(endpoint, operation)
    return api
