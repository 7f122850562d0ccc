"""The nonprofit API for supporters' pages (#15), with the organisation's own API key:

- `GET /campaigns/{id}/fundraisers` (filter by status, newest first, offset pages),
  `GET /fundraisers/{id}`, `GET /campaigns/{id}/teams`;
- `POST /fundraisers/{id}/approve|hide|unhide|end` (hide, unhide and end take an optional note;
  approve an optional `expected_revision`, a page changed since is 409 `fundraiser_changed`).

Another organisation's campaign or page is a 404, never a 403: ids are not confirmed. The
decisions are the fundraising service's (roles, the status machine, the audit log, facts).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from campaigns.campaign import service as campaigns
from campaigns.campaign.models import Campaign
from campaigns.donations.schemas import donation_out
from campaigns.fundraising import decisions, nonprofit_views
from campaigns.fundraising.models import Fundraiser, FundraiserStatus
from campaigns.fundraising.nonprofit_schemas import (
    ApproveIn,
    DecisionIn,
    FundraiserDonationList,
    FundraiserList,
    FundraiserListQuery,
    NonprofitFundraiserOut,
    OffsetQuery,
    TeamBriefOut,
    TeamList,
    TeamOut,
)
from campaigns.fundraising.schemas import fundraiser_out
from campaigns.nonprofits.web import api_actor
from service.web.api import ApiRoutes, Operation, json_response, parse_json, parse_query
from service.web.context import database
from service.web.urls import public_url_for

Endpoint = Callable[[Request], Awaitable[Response]]
TAG = "fundraisers"


def _page_out(
    request: Request, campaign_slug: str, page: nonprofit_views.PageNumbers
) -> NonprofitFundraiserOut:
    f = page.fundraiser
    team = TeamBriefOut(id=page.team.id, slug=page.team.slug, name=page.team.name) if page.team else None
    live = f.status is FundraiserStatus.LIVE
    return NonprofitFundraiserOut(
        **fundraiser_out(f).model_dump(),
        team=team,
        raised_minor=page.tally.raised_minor,
        donors=page.tally.donors,
        page_url=(
            public_url_for(request, "giving:fundraiser", slug=campaign_slug, fundraiser_slug=f.slug)
            if live
            else None
        ),
    )


async def list_fundraisers(request: Request) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    query = parse_query(request, FundraiserListQuery)
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        campaign = await campaigns.get_campaign(session, actor=actor, campaign_id=campaign_id)
        found = await decisions.list_for_nonprofit(
            session,
            actor=actor,
            campaign_id=campaign.id,
            status=query.status,
            limit=query.limit + 1,
            offset=query.offset,
        )
        pages = await nonprofit_views.with_numbers(
            session, nonprofit_id=actor.nonprofit_id, fundraisers=found[: query.limit]
        )
    body = FundraiserList(
        data=[_page_out(request, campaign.slug, page) for page in pages],
        next_offset=query.offset + query.limit if len(found) > query.limit else None,
    )
    return json_response(body)


async def get_fundraiser(request: Request) -> Response:
    fundraiser_id: uuid.UUID = request.path_params["fundraiser_id"]
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        fundraiser = await decisions.get_for_actor(session, actor=actor, fundraiser_id=fundraiser_id)
        body = await _one(request, session, actor.nonprofit_id, fundraiser)
    return json_response(body)


async def _one(
    request: Request, session: AsyncSession, nonprofit_id: uuid.UUID, fundraiser: Fundraiser
) -> NonprofitFundraiserOut:
    [page] = await nonprofit_views.with_numbers(session, nonprofit_id=nonprofit_id, fundraisers=[fundraiser])
    campaign = await session.get(Campaign, fundraiser.campaign_id)
    assert campaign is not None
    return _page_out(request, campaign.slug, page)


async def list_fundraiser_donations(request: Request) -> Response:
    fundraiser_id: uuid.UUID = request.path_params["fundraiser_id"]
    query = parse_query(request, OffsetQuery)
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        fundraiser = await decisions.get_for_actor(session, actor=actor, fundraiser_id=fundraiser_id)
        found = await nonprofit_views.donations_of(
            session, fundraiser_id=fundraiser.id, limit=query.limit + 1, offset=query.offset
        )
    body = FundraiserDonationList(
        data=[donation_out(d) for d in found[: query.limit]],
        next_offset=query.offset + query.limit if len(found) > query.limit else None,
    )
    return json_response(body)


def decision_endpoint(action: str) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        fundraiser_id: uuid.UUID = request.path_params["fundraiser_id"]
        # Hiding, showing again and ending take a note (the audit log keeps it).
        note = (await parse_json(request, DecisionIn)).note if action in _WITH_NOTE else None
        # Approving names the revision the caller reviewed (optional), so an edit made since is
        # refused instead of published unseen.
        expected = (await parse_json(request, ApproveIn)).expected_revision if action == "approve" else None
        async with database(request).transaction() as session:
            actor = await api_actor(request, session)
            if action == "approve":
                fundraiser = await decisions.approve(
                    session, actor=actor, fundraiser_id=fundraiser_id, expected_revision=expected
                )
            elif action == "unhide":
                fundraiser = await decisions.unhide(
                    session, actor=actor, fundraiser_id=fundraiser_id, note=note
                )
            elif action == "hide":
                fundraiser = await decisions.hide(
                    session, actor=actor, fundraiser_id=fundraiser_id, note=note
                )
            else:
                fundraiser = await decisions.end(session, actor=actor, fundraiser_id=fundraiser_id, note=note)
            body = await _one(request, session, actor.nonprofit_id, fundraiser)
        return json_response(body)

    endpoint.__name__ = f"{action}_fundraiser"
    return endpoint


async def list_teams(request: Request) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        campaign = await campaigns.get_campaign(session, actor=actor, campaign_id=campaign_id)
        teams = await nonprofit_views.teams_of(
            session, nonprofit_id=actor.nonprofit_id, campaign_id=campaign.id
        )
    body = TeamList(
        data=[
            TeamOut(
                id=t.team.id,
                campaign_id=t.team.campaign_id,
                slug=t.team.slug,
                name=t.team.name,
                created_at=t.team.created_at,
                members=t.members,
                raised_minor=t.tally.raised_minor,
                currency=campaign.currency,
                donors=t.tally.donors,
                page_url=public_url_for(request, "giving:team", slug=campaign.slug, team_slug=t.team.slug),
            )
            for t in teams
        ]
    )
    return json_response(body)


_WITH_NOTE = frozenset({"hide", "unhide", "end"})
_DECISIONS = {
    "approve": "Approve a page waiting for approval: it goes live and its fundraiser is told",
    "hide": "Hide a page (reversible): no page, no leaderboard place, no new gifts through it",
    "unhide": "Put a hidden page back where it was hidden from: live, or waiting for approval",
    "end": "End a page for good (its open reports close); the gifts it brought still count",
}


def build() -> ApiRoutes:
    api = ApiRoutes()
    api.add(
        list_fundraisers,
        Operation(
            "GET",
            "/campaigns/{campaign_id:uuid}/fundraisers",
            "A campaign's fundraiser pages, newest first, with what each raised and its distinct donors",
            TAG,
            query=FundraiserListQuery,
            response=FundraiserList,
            errors=(400, 401, 404, 422),
        ),
    )
    api.add(
        list_teams,
        Operation(
            "GET",
            "/campaigns/{campaign_id:uuid}/teams",
            "A campaign's fundraiser teams with their numbers",
            TAG,
            response=TeamList,
            errors=(401, 404),
        ),
    )
    api.add(
        get_fundraiser,
        Operation(
            "GET",
            "/fundraisers/{fundraiser_id:uuid}",
            "One fundraiser page",
            TAG,
            response=NonprofitFundraiserOut,
            errors=(401, 404),
        ),
    )
    api.add(
        list_fundraiser_donations,
        Operation(
            "GET",
            "/fundraisers/{fundraiser_id:uuid}/donations",
            "The donations made through one fundraiser page, oldest first",
            TAG,
            query=OffsetQuery,
            response=FundraiserDonationList,
            errors=(400, 401, 404, 422),
        ),
    )
    for action, summary in _DECISIONS.items():
        api.add(
            decision_endpoint(action),
            Operation(
                "POST",
                f"/fundraisers/{{fundraiser_id:uuid}}/{action}",
                summary,
                TAG,
                body=DecisionIn if action in _WITH_NOTE else ApproveIn,
                response=NonprofitFundraiserOut,
                errors=(400, 401, 403, 404, 409, 422),
            ),
        )
    return api
