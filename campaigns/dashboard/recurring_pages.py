"""Dashboard: the organisation's recurring gifts: per campaign active donors, MRR and churn
(campaigns/recurring/figures.py says how each is counted), then the gifts themselves."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaigns.campaign.models import Campaign
from campaigns.dashboard.auth import require_actor, signed_in
from campaigns.recurring import figures, repository
from campaigns.recurring.models import RecurringGift
from campaigns.recurring.schemas import CampaignRecurringFigures, monthly_minor
from service.web.context import database
from service.web.pages import render

TEMPLATE = "dashboard/recurring.html"
SHOWN = 200


@dataclass(frozen=True)
class CampaignRow:
    title: str
    figures: CampaignRecurringFigures

    @property
    def churn_text(self) -> str:
        bps = self.figures.churn_bps
        return "none yet" if bps is None else f"{bps // 100}.{bps % 100:02d}%"


@dataclass(frozen=True)
class GiftRow:
    gift: RecurringGift
    campaign: str
    monthly_minor: int


@signed_in
async def recurring(request: Request) -> Response:
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        gifts = await repository.gifts_of_nonprofit(session, actor.nonprofit_id, limit=100_000)
        ids = {g.campaign_id for g in gifts}
        titles: dict[uuid.UUID, str] = {}
        if ids:
            rows = await session.execute(sa.select(Campaign.id, Campaign.title).where(Campaign.id.in_(ids)))
            titles = {row[0]: row[1] for row in rows}
        now = session.now()
        campaigns = [
            CampaignRow(titles.get(f.campaign_id, ""), f) for f in figures.by_campaign(gifts, now=now)
        ]
        context = {
            "actor": actor,
            "campaigns": campaigns,
            "gifts": [GiftRow(g, titles.get(g.campaign_id, ""), monthly_minor(g)) for g in gifts[:SHOWN]],
            "more": max(len(gifts) - SHOWN, 0),
            "window_days": figures.CHURN_WINDOW.days,
        }
        return render(request, TEMPLATE, context)


routes = [Route("/recurring", recurring, methods=["GET"], name="recurring")]
