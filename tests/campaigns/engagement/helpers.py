"""Builders and readers for the engagement tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette

from campaigns.campaign.models import Campaign
from campaigns.donations.models import Donation, DonationStatus
from campaigns.donations.repository import settled_totals
from campaigns.engagement.recorder import EngagementRecorder
from campaigns.matching.models import FunderKind, Match, MatchingProgram, MatchStatus, Policy
from campaigns.sharing.models import ShareLink, ShareLinkKind
from service.db import Database
from tests.builders import Org

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36"


def visitor(app: Starlette, address: str = "203.0.113.7") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 1234))
    return httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers={"user-agent": BROWSER}
    )


def recorder_of(app: Starlette) -> EngagementRecorder:
    recorder: EngagementRecorder = app.state.engagement
    return recorder


async def stats(client: httpx.AsyncClient, org: Org, campaign_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/campaigns/{campaign_id}/stats", headers=org.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def flushed_stats(
    app: Starlette, client: httpx.AsyncClient, database: Database, campaign: dict[str, Any]
) -> dict[str, Any]:
    await recorder_of(app).flush(database)
    return await stats(client, campaign["_org"], campaign["id"])


async def insert_donations(database: Database, campaign_id: str, *donations: dict[str, Any]) -> None:
    """Donations as the settlement would leave them, and the campaign's totals recomputed."""
    async with database.transaction() as session:
        campaign = await session.get(Campaign, uuid.UUID(campaign_id))
        assert campaign is not None
        for values in donations:
            session.add(
                Donation(
                    campaign_id=campaign.id,
                    nonprofit_id=campaign.nonprofit_id,
                    currency=campaign.currency,
                    **{"amount_minor": 2500, "status": DonationStatus.CONFIRMED, **values},
                )
            )
        await session.flush()
        campaign.raised_minor, campaign.donor_count = await settled_totals(session, campaign.id)


async def insert_matches(database: Database, campaign_id: str, *matches: tuple[MatchStatus, int]) -> None:
    now = datetime.now(UTC)
    async with database.transaction() as session:
        campaign = await session.get(Campaign, uuid.UUID(campaign_id))
        assert campaign is not None
        program = MatchingProgram(
            name="Winter match",
            funder_kind=FunderKind.SPONSOR,
            funder_name="Harbor Trust",
            currency=campaign.currency,
            budget_minor=1_000_000,
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=30),
            policy=Policy.FIXED_RATIO,
            policy_params={"ratio_bps": 10_000},
        )
        session.add(program)
        await session.flush()
        for status, amount_minor in matches:
            session.add(
                Match(
                    key=f"{program.id}:test:{uuid.uuid4()}",
                    program_id=program.id,
                    campaign_id=campaign.id,
                    nonprofit_id=campaign.nonprofit_id,
                    currency=campaign.currency,
                    amount_minor=amount_minor,
                    original_minor=amount_minor,
                    status=status,
                    hold_until=now + timedelta(days=7),
                )
            )


async def insert_link(database: Database, campaign_id: str, *, channel: str | None = None) -> ShareLink:
    """A channel link, or a supporter's personal link when channel is None."""
    async with database.transaction() as session:
        link = ShareLink(
            campaign_id=uuid.UUID(campaign_id),
            code=uuid.uuid4().hex[:12],
            kind=ShareLinkKind.CHANNEL if channel else ShareLinkKind.SUPPORTER,
            channel=channel,
            donation_id=None if channel else uuid.uuid4(),
        )
        session.add(link)
    return link
