"""GET /api/v1/public/campaigns/{slug}: a campaign's public summary, for widgets and partners.

No credentials, readable from any origin (`Access-Control-Allow-Origin: *`: it holds only what
the public page shows), and cacheable like the page: shared caches may keep it 15 seconds and
serve it stale for a minute while they revalidate, with a strong ETag (the SHA-256 of the
body) so revalidation costs a 304 and no body. The body is rendered at most once per process
per microcache interval (the page's own cache, key ("summary", slug)), so a widget on a viral
page reads the database as rarely as the page does. The numbers are the page's numbers:
campaigns.giving.progress.campaign_progress.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from campaigns.campaign.errors import CampaignNotFound
from campaigns.giving import service
from campaigns.giving.progress import texts_by_language
from campaigns.matching.challenges import ChallengeProgress
from campaigns.nonprofits.models import NonprofitStatus
from service.web.api import error_response
from service.web.context import database, page_cache
from service.web.etags import etag_matches
from service.web.microcache import CachedPage
from service.web.urls import public_url_for

CACHE_CONTROL = "public, max-age=15, stale-while-revalidate=60"
_CORS = ("Access-Control-Allow-Origin", "*")
# A widget's script may read the ETag to revalidate by hand.
_EXPOSE = ("Access-Control-Expose-Headers", "ETag")


class OrganisationOut(BaseModel):
    name: str
    country: str = Field(description="ISO 3166-1 alpha-2")
    website: str
    verified: bool = Field(description="Goodloop checked the organisation's registration")


class MatchOfferOut(BaseModel):
    program_name: str
    ratio_text: str = Field(description='"1:1" doubles a gift, "50%" adds half')
    ratio_bps: int = Field(description="10000 = 1:1")
    per_gift_cap_minor: int | None = Field(description="the most one gift can unlock, if capped")
    available_minor: int = Field(description="left in the funded pool")
    ends_at: datetime


class ChallengeOut(BaseModel):
    program_name: str
    bonus_minor: int = Field(description="what the challenge adds to the campaign when met")
    target_kind: str = Field(description="donors or amount")
    target: int = Field(description="donors, or minor units, to reach")
    progress: int
    remaining: int = Field(description="donors, or minor units, still missing (0 once met)")
    deadline: datetime
    unlocked: bool
    text: str | None = Field(
        description='"12 more donors unlock €500.00", "Unlocked! ...", or null once over'
    )


class CampaignSummaryOut(BaseModel):
    title: str
    slug: str
    url: str = Field(description="the campaign page")
    status: str = Field(description="live, paused or ended")
    organisation: OrganisationOut
    currency: str
    goal_minor: int
    raised_minor: int = Field(description="donors' own money, net of refunds")
    matched_minor: int = Field(
        description="match money on top: pending, held for review, approved or paid (net of clawbacks)"
    )
    total_minor: int = Field(description="raised_minor + matched_minor")
    donors_count: int
    percent: int = Field(description="total_minor of goal_minor, floored, at most 100")
    raised_text: str = Field(description="raised_minor formatted for people, as the page shows it")
    matched_text: str
    total_text: str
    percent_text: str = Field(description='"25%"')
    donors_text: str = Field(description='"1 donor", "1,204 donors"')
    starts_at: datetime | None
    ends_at: datetime | None
    days_left: str | None = Field(description='"3 days left", "last day", "ended", or null without an end')
    closed_reason: str | None = Field(description="why it takes no gifts now (null while it does)")
    match_offers: list[MatchOfferOut]
    challenges: list[ChallengeOut]
    texts: dict[str, dict[str, str]] = Field(
        description="the *_text fields (and announce_text, a short sentence for screen readers) in "
        'each language the site speaks: {"nl": {"total_text": "€ 1.250,00", ...}, "en": {...}}'
    )


def _challenge_out(challenge: ChallengeProgress, text: str | None) -> ChallengeOut:
    return ChallengeOut(
        program_name=challenge.program_name,
        bonus_minor=challenge.bonus_minor,
        target_kind=challenge.target_kind,
        target=challenge.target,
        progress=challenge.progress,
        remaining=challenge.remaining,
        deadline=challenge.deadline,
        unlocked=challenge.unlocked,
        text=text,
    )


def summary_out(request: Request, view: service.CampaignView) -> CampaignSummaryOut:
    campaign, nonprofit, progress = view.campaign, view.nonprofit, view.progress
    return CampaignSummaryOut(
        title=campaign.title,
        slug=campaign.slug,
        url=public_url_for(request, "giving:campaign", slug=campaign.slug),
        status=campaign.status.value,
        organisation=OrganisationOut(
            name=nonprofit.name,
            country=nonprofit.country,
            website=nonprofit.website,
            verified=nonprofit.status is NonprofitStatus.VERIFIED,
        ),
        currency=progress.currency,
        goal_minor=progress.goal_minor,
        raised_minor=progress.raised_minor,
        matched_minor=progress.matched_minor,
        total_minor=progress.total_minor,
        donors_count=progress.donors_count,
        percent=progress.percent,
        **view.progress_texts,
        starts_at=campaign.starts_at,
        ends_at=campaign.ends_at,
        days_left=view.days_left,
        closed_reason=view.closed_reason,
        match_offers=[
            MatchOfferOut(
                program_name=o.program_name,
                ratio_text=o.ratio_text,
                ratio_bps=o.ratio_bps,
                per_gift_cap_minor=o.per_donation_cap_minor,
                available_minor=o.available_minor,
                ends_at=o.ends_at,
            )
            for o in view.match_offers
        ],
        challenges=[_challenge_out(c, text) for c, text in view.challenge_texts],
        texts=texts_by_language(progress),
    )


async def _render(request: Request, slug: str) -> CachedPage:
    try:
        async with database(request).transaction() as session:
            view = await service.campaign_view(session, slug=slug, now=session.now())
    except CampaignNotFound as e:
        missing = error_response(e)
        return CachedPage(body=bytes(missing.body), status_code=missing.status_code, headers=())
    body = json.dumps(
        summary_out(request, view).model_dump(mode="json"), separators=(",", ":"), ensure_ascii=False
    ).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return CachedPage(body=body, status_code=200, headers=(("ETag", etag),))


async def campaign_summary(request: Request) -> Response:
    slug: str = request.path_params["slug"]
    page = await page_cache(request).get_or_render(("summary", slug), lambda: _render(request, slug))
    headers = dict(page.headers)
    headers.update((_CORS, _EXPOSE))
    if page.status_code != 200:
        # Unknown and unpublished campaigns look alike; a widget may ask again soon.
        headers["Cache-Control"] = "no-store"
        return Response(
            page.body, status_code=page.status_code, media_type="application/json", headers=headers
        )
    headers["Cache-Control"] = CACHE_CONTROL
    if etag_matches(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    return Response(page.body, media_type="application/json", headers=headers)
