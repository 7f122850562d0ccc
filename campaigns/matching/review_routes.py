"""Review API beyond single decisions: bulk approval, risk signal settings, and the
nonprofit's own view of its matches with the one appeal it may make."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response

from campaigns.matching import lifecycle, risk, risk_settings
from campaigns.matching.models import Match
from campaigns.matching.routes import REVIEW
from campaigns.matching.schemas import (
    AppealIn,
    BulkApproveIn,
    BulkApproveOut,
    OwnMatchList,
    OwnMatchOut,
    OwnMatchQuery,
    RiskSignalList,
    RiskSignalOut,
    RiskSignalPatch,
    SkippedMatch,
)
from campaigns.matching.web import own_match_out
from campaigns.nonprofits.web import api_actor
from service.auth.models import AdminRole
from service.pagination import next_cursor
from service.unit_of_work import UnitOfWork
from service.web.api import ApiRoutes, Operation, json_response, parse_json, parse_query
from service.web.context import database
from service.web.guards import api_admin


def signal_out(setting: risk_settings.SignalSetting) -> RiskSignalOut:
    d = setting.definition
    return RiskSignalOut(
        code=d.code,
        label=d.label,
        weight=setting.weight,
        default_weight=d.weight,
        threshold=setting.threshold,
        default_threshold=d.threshold,
        threshold_meaning=d.threshold_meaning,
        enabled=setting.enabled,
    )


async def bulk_approve(request: Request) -> Response:
    data = await parse_json(request, BulkApproveIn)

    # One unit of work, run again whole on a deadlock (docs/architecture.md, "Transactions and retries").
    async def decide(session: UnitOfWork) -> lifecycle.BulkOutcome:
        admin = await api_admin(request, session, *REVIEW)
        return await lifecycle.bulk_approve(
            session, admin=admin, match_ids=data.match_ids, note_text=data.note
        )

    outcome = await database(request).run("bulk_approve_matches", decide)
    skipped = [SkippedMatch(match_id=k, reason=v) for k, v in outcome.skipped.items()]
    return json_response(BulkApproveOut(approved=outcome.approved, skipped=skipped))


async def list_risk_signals(request: Request) -> Response:
    async with database(request).transaction() as session:
        await api_admin(request, session, *REVIEW, AdminRole.FINANCE)
        config = await risk_settings.load(session)
    data = [signal_out(config.settings[d.code]) for d in risk_settings.SIGNALS]
    return json_response(RiskSignalList(review_score=risk.REVIEW_SCORE, data=data))


async def update_risk_signal(request: Request) -> Response:
    code: str = request.path_params["code"]
    data = await parse_json(request, RiskSignalPatch)
    async with database(request).transaction() as session:
        admin = await api_admin(request, session, AdminRole.SUPERADMIN)
        setting = await risk_settings.update(
            session,
            admin=admin,
            code=code,
            weight=data.weight,
            threshold=data.threshold,
            enabled=data.enabled,
        )
    return json_response(signal_out(setting))


async def list_own_matches(request: Request) -> Response:
    query = parse_query(request, OwnMatchQuery)
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        rows = await lifecycle.list_matches(
            session,
            status=query.status,
            program_id=None,
            campaign_id=query.campaign_id,
            limit=query.limit,
            cursor=query.cursor,
            nonprofit_id=actor.nonprofit_id,
        )
    page = OwnMatchList(
        data=[own_match_out(m) for m in rows[: query.limit]], next_cursor=next_cursor(rows, query.limit)
    )
    return json_response(page)


async def appeal_match(request: Request) -> Response:
    match_id: uuid.UUID = request.path_params["match_id"]
    data = await parse_json(request, AppealIn)

    async def appeal(session: UnitOfWork) -> Match:
        actor = await api_actor(request, session)
        return await lifecycle.appeal_match(session, actor=actor, match_id=match_id, message=data.message)

    match = await database(request).run("appeal_match", appeal)
    return json_response(own_match_out(match))


def build() -> ApiRoutes:
    api = ApiRoutes()
    writes = (400, 401, 403, 404, 409, 422)
    api.add(
        bulk_approve,
        Operation(
            "POST",
            "/admin/matches/bulk-approve",
            "Approve the low-risk matches among those given; the others are listed with why",
            "admin",
            body=BulkApproveIn,
            response=BulkApproveOut,
            errors=writes,
        ),
    )
    api.add(
        list_risk_signals,
        Operation(
            "GET",
            "/admin/risk-signals",
            "Risk signals with their weights and thresholds",
            "admin",
            response=RiskSignalList,
            errors=(401, 403),
        ),
    )
    api.add(
        update_risk_signal,
        Operation(
            "PATCH",
            "/admin/risk-signals/{code:str}",
            "Change a risk signal's weight, threshold or on/off (superadmin)",
            "admin",
            body=RiskSignalPatch,
            response=RiskSignalOut,
            errors=writes,
        ),
    )
    api.add(
        list_own_matches,
        Operation(
            "GET",
            "/matches",
            "The nonprofit's matches with their status and reason",
            "matching",
            query=OwnMatchQuery,
            response=OwnMatchList,
            errors=(400, 401, 403, 422),
        ),
    )
    api.add(
        appeal_match,
        Operation(
            "POST",
            "/matches/{match_id:uuid}/appeal",
            "Appeal a rejected match, once; it returns to review",
            "matching",
            body=AppealIn,
            response=OwnMatchOut,
            errors=writes,
        ),
    )
    return api
