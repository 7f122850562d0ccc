"""A nonprofit with supporters' pages and gifts through them, for the dashboard, API, export and
console tests of part C (#15): pages started and confirmed through the public API and their
emails, gifts through the checkout API paid by signed Stripe webhooks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from campaigns.fundraising import service as fundraising
from campaigns.fundraising.models import Fundraiser
from service.db import Database
from service.settings import Settings
from tests import builders
from tests.campaigns.fundraising.helpers import live_page, owner_actor, p2p_campaign, pay
from tests.mail_server import SmtpServer


@dataclass(frozen=True)
class Scene:
    campaign: dict[str, Any]
    org: builders.Org
    waiting: Fundraiser
    """Confirmed, waiting for the nonprofit's approval."""
    runner: Fundraiser
    """Live, in team "Runners", with three paid gifts from two people (one anonymous)."""
    gifts: list[str]
    other_campaign: dict[str, Any]
    other_org: builders.Org
    other_page: Fundraiser
    """Another organisation's page: never visible to `org`."""


async def gift(
    client: httpx.AsyncClient,
    database: Database,
    settings: Settings,
    slug: str,
    *,
    fundraiser: str,
    email: str,
    card: str,
    amount_minor: int = 2500,
    **extra: Any,
) -> str:
    body = {
        "amount_minor": amount_minor,
        "currency": "eur",
        "email": email,
        "fundraiser": fundraiser,
        **extra,
    }
    response = await client.post(f"/api/v1/public/campaigns/{slug}/checkout", json=body)
    assert response.status_code == 201, response.text
    donation_id: str = response.json()["donation_id"]
    await pay(client, database, settings, donation_id, email=email, card=card)
    return donation_id


async def approve(database: Database, campaign: dict[str, Any], page: Fundraiser) -> Fundraiser:
    async with database.transaction() as session:
        return await fundraising.approve(session, actor=owner_actor(campaign), fundraiser_id=page.id)


async def build_scene(
    client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
) -> Scene:
    campaign = await p2p_campaign(client, database, need_approval=True)
    slug = campaign["slug"]
    waiting = await live_page(
        client,
        database,
        smtp_server,
        slug,
        name="Piet Jansen",
        title="Piet cycles for coats",
        email="piet@example.org",
    )
    runner = await live_page(
        client,
        database,
        smtp_server,
        slug,
        name="Anna de Vries",
        title="Anna runs 10 km for warm coats",
        email="anna@example.org",
        team={"create": "Runners"},
    )
    runner = await approve(database, campaign, runner)
    card = uuid.uuid4().hex[:16]
    gifts = [
        await gift(
            client,
            database,
            settings,
            slug,
            fundraiser=runner.slug,
            email="joe@example.org",
            card=card,
            name="Joe Bloggs",
            amount_minor=2500,
        ),
        # The same card under another address: one person, counted once.
        await gift(
            client,
            database,
            settings,
            slug,
            fundraiser=runner.slug,
            email="joe.b@example.org",
            card=card,
            name="Joe B.",
            amount_minor=1000,
        ),
        await gift(
            client,
            database,
            settings,
            slug,
            fundraiser=runner.slug,
            email="quiet@example.org",
            card=uuid.uuid4().hex[:16],
            name="Secret Sam",
            anonymous=True,
            amount_minor=5000,
        ),
    ]
    other = await p2p_campaign(client, database)
    other_page = await live_page(client, database, smtp_server, other["slug"], email="other@example.org")
    return Scene(
        campaign=campaign,
        org=campaign["_org"],
        waiting=waiting,
        runner=runner,
        gifts=gifts,
        other_campaign=other,
        other_org=other["_org"],
        other_page=other_page,
    )
