"""Donor reports: anyone may report a public campaign; moderators resolve reports per campaign."""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign, CampaignStatus
from campaigns.moderation.models import CampaignReport, ReportReason
from service import audit
from service.auth.models import Admin
from service.errors import NotFound
from service.ratelimit import Limit
from service.unit_of_work import UnitOfWork

REPORTABLE = (CampaignStatus.LIVE, CampaignStatus.PAUSED, CampaignStatus.ENDED)
# A person with a real concern reports once or twice; a flood from one network is an attack
# on the campaign (or on the moderators' attention), not information.
REPORT_LIMIT_PER_CLIENT = Limit(
    name="report_client",
    max_hits=5,
    window=timedelta(hours=1),
    message="you have sent several reports in the last hour; thank you, we are looking at them",
)


class CampaignNotReportable(NotFound):
    code = "campaign_not_found"


async def report_campaign(
    session: AsyncSession,
    *,
    slug: str,
    reason: ReportReason,
    message: str,
    reporter_email: str | None,
    client_hash: str | None,
    fundraiser_id: uuid.UUID | None = None,
) -> CampaignReport:
    """A report about the campaign, or about a supporter's fundraiser page of it (`fundraiser_id`,
    checked by campaigns.fundraising, which calls this with its own page's id)."""
    campaign = await session.scalar(
        sa.select(Campaign).where(Campaign.slug == slug, Campaign.status.in_(REPORTABLE))
    )
    if campaign is None:
        raise CampaignNotReportable("no such campaign")
    report = CampaignReport(
        campaign_id=campaign.id,
        reason=reason,
        message=message,
        reporter_email=reporter_email,
        client_hash=client_hash,
        fundraiser_id=fundraiser_id,
    )
    session.add(report)
    await session.flush()
    return report


async def list_open_reports(
    session: AsyncSession, *, campaign_id: uuid.UUID | None = None, limit: int = 200
) -> list[CampaignReport]:
    query = sa.select(CampaignReport).where(CampaignReport.resolved_at.is_(None))
    if campaign_id is not None:
        query = query.where(CampaignReport.campaign_id == campaign_id)
    query = query.order_by(CampaignReport.created_at.desc(), CampaignReport.id).limit(limit)
    return list((await session.scalars(query)).all())


async def open_report_counts(session: AsyncSession) -> dict[uuid.UUID, int]:
    rows = await session.execute(
        sa.select(CampaignReport.campaign_id, sa.func.count())
        .where(CampaignReport.resolved_at.is_(None))
        .group_by(CampaignReport.campaign_id)
    )
    return {campaign_id: int(n) for campaign_id, n in rows.all()}


async def resolve_reports(session: UnitOfWork, *, admin: Admin, campaign_id: uuid.UUID, note: str) -> int:
    """Close every open report on the campaign with the moderator's note; returns how many."""
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("no such campaign", code="campaign_not_found")
    now = session.now()
    result = await session.execute(
        sa.update(CampaignReport)
        .where(CampaignReport.campaign_id == campaign_id, CampaignReport.resolved_at.is_(None))
        .values(resolved_at=now, resolved_by_admin_id=admin.id, resolution_note=note)
        .returning(CampaignReport.id)
    )
    resolved = len(result.all())
    await audit.record(
        session,
        actor=admin,
        action="campaign.reports_resolved",
        subject_type="campaign",
        subject_id=str(campaign_id),
        nonprofit_id=campaign.nonprofit_id,
        after={"resolved_reports": resolved},
        note=note,
    )
    return resolved
