"""The public fundraising API: start a page, read pages and teams, the leaderboard.

No credentials (like the checkout and the campaign summary): anyone may start a page for a
campaign that takes them, and read live pages. Starting answers 202 with the same sentence
whatever the address (no enumeration); the page goes public only after the emailed link.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from campaigns.fundraising import limits, service
from campaigns.fundraising.schemas import (
    AcceptedOut,
    FundraiserIn,
    LeaderboardOut,
    PublicFundraiserOut,
    PublicTeamOut,
)
from campaigns.fundraising.starting import NewFundraiser, TeamChoice
from campaigns.fundraising.web import fundraiser_public_out, leaderboard_out, team_public_out
from service.web.api import ApiRoutes, Operation, json_response, parse_json, parse_query
from service.web.context import database, page_cache
from service.web.microcache import CachedPage

TAG = "fundraising"
_PUBLIC_JSON = (
    ("Content-Type", "application/json"),
    ("Cache-Control", "public, max-age=15, stale-while-revalidate=60"),
    ("Access-Control-Allow-Origin", "*"),
)


class LeaderboardQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    of: Literal["fundraisers", "teams"] = "fundraisers"
    by: Literal["donors", "amount"] = Field(
        default="donors", description="donors: distinct donors (identity clusters), the default"
    )


async def start_public_fundraiser(request: Request) -> Response:
    slug: str = request.path_params["slug"]
    data = await parse_json(request, FundraiserIn)
    await limits.enforce_creation_limits(request, data.email)
    team = None
    if data.team is not None:
        team = TeamChoice(join_slug=data.team.join, create_name=data.team.create)
    new = NewFundraiser(
        name=data.name,
        email=data.email,
        title=data.title,
        story_markdown=data.story,
        goal_minor=data.goal_minor,
        team=team,
        language=data.language,
    )
    async with database(request).transaction() as session:
        await service.start_fundraiser(session, campaign_slug=slug, data=new)
    return json_response(AcceptedOut(message=str(service.ACCEPTED_MESSAGE)), 202)


async def get_public_fundraiser(request: Request) -> Response:
    async with database(request).transaction() as session:
        view = await service.public_fundraiser(
            session,
            campaign_slug=request.path_params["slug"],
            fundraiser_slug=request.path_params["fundraiser_slug"],
        )
    return json_response(fundraiser_public_out(request, view))


async def get_public_team(request: Request) -> Response:
    async with database(request).transaction() as session:
        view = await service.public_team(
            session, campaign_slug=request.path_params["slug"], team_slug=request.path_params["team_slug"]
        )
    return json_response(team_public_out(request, view))


async def get_public_leaderboard(request: Request) -> Response:
    """Rendered at most once per process per microcache interval (GOODLOOP_PAGE_CACHE_SECONDS)
    and cacheable by shared caches for 15 s, like the campaign summary: a board on a viral page
    is read far more often than it changes."""
    query = parse_query(request, LeaderboardQuery)
    slug: str = request.path_params["slug"]

    async def render() -> CachedPage:
        async with database(request).transaction() as session:
            campaign, entries = await service.campaign_leaderboard(
                session, campaign_slug=slug, of=query.of, by=query.by
            )
        out = leaderboard_out(
            request,
            campaign_slug=campaign.slug,
            currency=campaign.currency,
            of=query.of,
            by=query.by,
            entries=entries,
        )
        body = json.dumps(out.model_dump(mode="json"), separators=(",", ":")).encode()
        return CachedPage(body=body, status_code=200, headers=_PUBLIC_JSON)

    page = await page_cache(request).get_or_render(
        ("fundraising:leaderboard", slug, query.of, query.by), render
    )
    return Response(page.body, status_code=page.status_code, headers=dict(page.headers))


def build() -> ApiRoutes:
    api = ApiRoutes()
    api.add(
        start_public_fundraiser,
        Operation(
            "POST",
            "/public/campaigns/{slug}/fundraisers",
            "Start a fundraiser page for a campaign that takes them; it goes public after the emailed"
            " confirmation link (and the nonprofit's approval when the campaign asks for it)",
            TAG,
            body=FundraiserIn,
            response=AcceptedOut,
            status_code=202,
            auth=None,
            errors=(400, 404, 409, 422, 429),
        ),
    )
    api.add(
        get_public_fundraiser,
        Operation(
            "GET",
            "/public/campaigns/{slug}/fundraisers/{fundraiser_slug}",
            "A live fundraiser page: story, goal, raised, distinct donors, team, milestones, photo, links",
            TAG,
            response=PublicFundraiserOut,
            auth=None,
            errors=(404,),
        ),
    )
    api.add(
        get_public_team,
        Operation(
            "GET",
            "/public/campaigns/{slug}/teams/{team_slug}",
            "A team: its live members and totals",
            TAG,
            response=PublicTeamOut,
            auth=None,
            errors=(404,),
        ),
    )
    api.add(
        get_public_leaderboard,
        Operation(
            "GET",
            "/public/campaigns/{slug}/leaderboard",
            "Fundraisers or teams ranked by distinct donors (default) or amount; the top 50 at most",
            TAG,
            query=LeaderboardQuery,
            response=LeaderboardOut,
            auth=None,
            errors=(400, 404, 422),
        ),
    )
    return api
