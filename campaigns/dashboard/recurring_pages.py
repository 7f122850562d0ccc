"""Dashboard: the organisation's recurring gifts: per campaign active donors, MRR and churn
(campaigns/recurring/figures.py says how each is counted), then the gifts themselves."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from babel.numbers import format_decimal
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaigns.campaign.models import Campaign
from campaigns.dashboard.auth import require_actor, signed_in
from campaigns.recurring import figures, repository
from campaigns.recurring.models import RecurringGift
from campaigns.recurring.schemas import CampaignRecurringFigures, monthly_minor
from service import i18n
from service.web.context import database
from service.web.language import page_language
from service.web.pages import render

TEMPLATE = "dashboard/recurring.html"
SHOWN = 200


@dataclass(frozen=True)
class CampaignRow:
    title: str
    figures: CampaignRecurringFigures
    language: str = i18n.DEFAULT_LANGUAGE

    @property
    def churn_text(self) -> str:
        """The churn as the page's language writes a percentage (12.50% / 12,50%); "" when none yet."""
        bps = self.figures.churn_bps
        if bps is None:
            return ""
        # Basis points are exact; Decimal keeps them so (no float rounding of 12.35%).
        figure = format_decimal(Decimal(bps) / 100, format="0.00", locale=i18n.babel_locale(self.language))
        return f"{figure}%"


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
        language = page_language(request)
        campaigns = [
            CampaignRow(titles.get(f.campaign_id, ""), f, language)
            for f in figures.by_campaign(gifts, now=now)
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
