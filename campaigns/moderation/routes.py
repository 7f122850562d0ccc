"""Admin JSON API: nonprofit verification, campaign moderation, the audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from campaigns.campaign import service as campaigns
from campaigns.campaign.schemas import CampaignList, CampaignOut
from campaigns.campaign.web import campaign_out
from campaigns.moderation import service as reports
from campaigns.moderation.models import CampaignReport, ReportReason
from campaigns.nonprofits import service as nonprofits
from campaigns.nonprofits.models import NonprofitStatus
from campaigns.nonprofits.schemas import NonprofitList, NonprofitOut, RejectIn
from campaigns.nonprofits.web import nonprofit_out
from service import audit
from service.auth.models import AdminRole
from service.pagination import PageQuery, next_cursor
from service.validation import Reason
from service.web.api import ApiRoutes, Operation, json_response, parse_json, parse_query
from service.web.context import database
from service.web.guards import api_admin


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Reason | None = None


class NonprofitQueueQuery(PageQuery):
    status: NonprofitStatus | None = NonprofitStatus.PENDING_VERIFICATION


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject_type: str | None = Field(default=None, max_length=32, pattern=r"^[a-z_]+$")
    subject_id: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    action: str | None = Field(default=None, max_length=64, pattern=r"^[a-z_.]+$")
    limit: int = Field(default=50, ge=1, le=500)


class AuditEntryOut(BaseModel):
    id: uuid.UUID
    created_at: datetime
    actor_type: str
    actor_id: str | None
    actor_label: str
    action: str
    subject_type: str
    subject_id: str
    nonprofit_id: uuid.UUID | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    note: str | None


class AuditList(BaseModel):
    data: list[AuditEntryOut]


class ReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    campaign_id: uuid.UUID | None = None


class ReportOut(BaseModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    donation_id: uuid.UUID | None = Field(
        default=None, description="set when the report is about one donor's message on the wall of support"
    )
    reason: ReportReason
    message: str
    created_at: datetime


class ReportList(BaseModel):
    data: list[ReportOut]


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Reason


class ResolvedOut(BaseModel):
    resolved: int


def report_out(report: CampaignReport) -> ReportOut:
    # The reporter's email and network stay with moderators' tools, not in list payloads.
    return ReportOut.model_validate(report, from_attributes=True)


async def list_nonprofits(request: Request) -> Response:
    query = parse_query(request, NonprofitQueueQuery)
    async with database(request).transaction() as session:
        await api_admin(request, session, AdminRole.REVIEWER, AdminRole.FINANCE)
        rows = await nonprofits.list_nonprofits(
            session, status=query.status, limit=query.limit, cursor=query.cursor
        )
    page = NonprofitList(
        data=[nonprofit_out(n) for n in rows[: query.limit]], next_cursor=next_cursor(rows, query.limit)
    )
    return json_response(page)


async def verify_nonprofit(request: Request) -> Response:
    nonprofit_id: uuid.UUID = request.path_params["nonprofit_id"]
    data = await parse_json(request, ApproveIn)
    async with database(request).transaction() as session:
        admin = await api_admin(request, session, AdminRole.REVIEWER)
        nonprofit = await nonprofits.verify_nonprofit(
            session, admin=admin, nonprofit_id=nonprofit_id, note=data.note
        )
    return json_response(nonprofit_out(nonprofit))


async def reject_nonprofit(request: Request) -> Response:
    nonprofit_id: uuid.UUID = request.path_params["nonprofit_id"]
    data = await parse_json(request, RejectIn)
    async with database(request).transaction() as session:
        admin = await api_admin(request, session, AdminRole.REVIEWER)
        nonprofit = await nonprofits.reject_nonprofit(
            session, admin=admin, nonprofit_id=nonprofit_id, reason=data.reason
        )
    return json_response(nonprofit_out(nonprofit))


async def list_review_queue(request: Request) -> Response:
    query = parse_query(request, PageQuery)
    async with database(request).transaction() as session:
        await api_admin(request, session, AdminRole.REVIEWER)
        rows = await campaigns.list_review_queue(session, limit=query.limit, cursor=query.cursor)
    page = CampaignList(
        data=[campaign_out(request, c) for c in rows[: query.limit]],
        next_cursor=next_cursor(rows, query.limit),
    )
    return json_response(page)


async def approve_campaign(request: Request) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    data = await parse_json(request, ApproveIn)
    async with database(request).transaction() as session:
        admin = await api_admin(request, session, AdminRole.REVIEWER)
        campaign = await campaigns.approve_campaign(
            session, admin=admin, campaign_id=campaign_id, note=data.note
        )
    return json_response(campaign_out(request, campaign))


async def reject_campaign(request: Request) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    data = await parse_json(request, RejectIn)
    async with database(request).transaction() as session:
        admin = await api_admin(request, session, AdminRole.REVIEWER)
        campaign = await campaigns.reject_campaign(
            session, admin=admin, campaign_id=campaign_id, reason=data.reason
        )
    return json_response(campaign_out(request, campaign))


async def pause_campaign(request: Request) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    data = await parse_json(request, RejectIn)
    async with database(request).transaction() as session:
        admin = await api_admin(request, session, AdminRole.REVIEWER)
        campaign = await campaigns.admin_pause_campaign(
            session, admin=admin, campaign_id=campaign_id, reason=data.reason
        )
    return json_response(campaign_out(request, campaign))


async def resume_campaign(request: Request) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    data = await parse_json(request, ApproveIn)
    async with database(request).transaction() as session:
        admin = await api_admin(request, session, AdminRole.REVIEWER)
        campaign = await campaigns.admin_resume_campaign(
            session, admin=admin, campaign_id=campaign_id, note=data.note
        )
    return json_response(campaign_out(request, campaign))


async def list_reports(request: Request) -> Response:
    query = parse_query(request, ReportQuery)
    async with database(request).transaction() as session:
        await api_admin(request, session, AdminRole.REVIEWER)
        rows = await reports.list_open_reports(session, campaign_id=query.campaign_id)
    return json_response(ReportList(data=[report_out(r) for r in rows]))


async def resolve_reports(request: Request) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    data = await parse_json(request, ResolveIn)
    async with database(request).transaction() as session:
        admin = await api_admin(request, session, AdminRole.REVIEWER)
        resolved = await reports.resolve_reports(
            session, admin=admin, campaign_id=campaign_id, note=data.note
        )
    return json_response(ResolvedOut(resolved=resolved))


async def list_audit_log(request: Request) -> Response:
    query = parse_query(request, AuditQuery)
    async with database(request).transaction() as session:
        await api_admin(request, session, AdminRole.REVIEWER, AdminRole.FINANCE)
        entries = await audit.list_entries(
            session,
            subject_type=query.subject_type,
            subject_id=query.subject_id,
            action=query.action,
            limit=query.limit,
        )
    out = AuditList(data=[AuditEntryOut.model_validate(e, from_attributes=True) for e in entries])
    return json_response(out)


def build() -> ApiRoutes:
    api = ApiRoutes()
    tag = "admin"
    decision_errors = (400, 401, 403, 404, 409, 422)
    api.add(
        list_nonprofits,
        Operation(
            "GET",
            "/admin/nonprofits",
            "Nonprofits by status (verification queue)",
            tag,
            query=NonprofitQueueQuery,
            response=NonprofitList,
            errors=(400, 401, 403, 422),
        ),
    )
    api.add(
        verify_nonprofit,
        Operation(
            "POST",
            "/admin/nonprofits/{nonprofit_id:uuid}/verify",
            "Verify a nonprofit",
            tag,
            body=ApproveIn,
            response=NonprofitOut,
            errors=decision_errors,
        ),
    )
    api.add(
        reject_nonprofit,
        Operation(
            "POST",
            "/admin/nonprofits/{nonprofit_id:uuid}/reject",
            "Reject a nonprofit",
            tag,
            body=RejectIn,
            response=NonprofitOut,
            errors=decision_errors,
        ),
    )
    api.add(
        list_review_queue,
        Operation(
            "GET",
            "/admin/campaigns/review-queue",
            "Campaigns waiting for moderation",
            tag,
            query=PageQuery,
            response=CampaignList,
            errors=(400, 401, 403, 422),
        ),
    )
    api.add(
        approve_campaign,
        Operation(
            "POST",
            "/admin/campaigns/{campaign_id:uuid}/approve",
            "Approve a campaign: it goes live",
            tag,
            body=ApproveIn,
            response=CampaignOut,
            errors=decision_errors,
        ),
    )
    api.add(
        reject_campaign,
        Operation(
            "POST",
            "/admin/campaigns/{campaign_id:uuid}/reject",
            "Reject a campaign back to draft",
            tag,
            body=RejectIn,
            response=CampaignOut,
            errors=decision_errors,
        ),
    )
    api.add(
        pause_campaign,
        Operation(
            "POST",
            "/admin/campaigns/{campaign_id:uuid}/pause",
            "Pause a live campaign (reason required); only a moderator can resume it",
            tag,
            body=RejectIn,
            response=CampaignOut,
            errors=decision_errors,
        ),
        name="admin_pause_campaign",
    )
    api.add(
        resume_campaign,
        Operation(
            "POST",
            "/admin/campaigns/{campaign_id:uuid}/resume",
            "Resume a campaign a moderator paused",
            tag,
            body=ApproveIn,
            response=CampaignOut,
            errors=decision_errors,
        ),
        name="admin_resume_campaign",
    )
    api.add(
        list_reports,
        Operation(
            "GET",
            "/admin/reports",
            "Open donor reports, newest first",
            tag,
            query=ReportQuery,
            response=ReportList,
            errors=(401, 403, 422),
        ),
    )
    api.add(
        resolve_reports,
        Operation(
            "POST",
            "/admin/campaigns/{campaign_id:uuid}/reports/resolve",
            "Close a campaign's open reports with a note",
            tag,
            body=ResolveIn,
            response=ResolvedOut,
            errors=decision_errors,
        ),
    )
    api.add(
        list_audit_log,
        Operation(
            "GET",
            "/admin/audit-log",
            "The audit log, newest first",
            tag,
            query=AuditQuery,
            response=AuditList,
            errors=(401, 403, 422),
        ),
    )
    return api
