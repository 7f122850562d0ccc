"""Drive peer-to-peer fundraising through the public API, the emails and signed Stripe webhooks."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import sqlalchemy as sa

from campaigns.campaign.models import Campaign
from campaigns.donations.models import Donation
from campaigns.fundraising import service as fundraising
from campaigns.fundraising.models import Fundraiser
from campaigns.nonprofits.actors import Actor
from campaigns.nonprofits.models import MemberRole
from service.db import Database
from service.settings import Settings
from tests.campaigns.giving.helpers import live
from tests.mail_server import SmtpServer, parts
from tests.webhooks import stripe_events
from tests.webhooks.builders import deliver, process_all

CONFIRM_LINK = re.compile(r"https?://[^\s\"<>]+/fundraisers/confirm/([A-Za-z0-9_\-]+)")
SIGN_IN_LINK = re.compile(r"https?://[^\s\"<>]+/fundraisers/sign-in/([A-Za-z0-9_\-]+)")


async def p2p_campaign(
    client: httpx.AsyncClient, database: Database, *, need_approval: bool = False, **overrides: Any
) -> dict[str, Any]:
    """A live campaign with peer-to-peer switched on through the campaign API."""
    campaign = await live(client, database, **overrides)
    org = campaign["_org"]
    response = await client.patch(
        f"/api/v1/campaigns/{campaign['id']}",
        json={"fundraisers_enabled": True, "fundraisers_need_approval": need_approval},
        headers=org.headers,
    )
    assert response.status_code == 200, response.text
    return campaign


def page_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": "Anna de Vries",
        "email": f"anna-{uuid.uuid4().hex[:6]}@example.org",
        "title": "I run 10 km for warm coats",
        "story": "Every kilometre is a **coat**.",
        "goal_minor": 50_000,
    }
    payload.update(overrides)
    return payload


async def start(client: httpx.AsyncClient, slug: str, **overrides: Any) -> httpx.Response:
    return await client.post(f"/api/v1/public/campaigns/{slug}/fundraisers", json=page_payload(**overrides))


async def mail_to(smtp_server: SmtpServer, database: Database, address: str) -> list[tuple[str, str, str]]:
    """(subject, language, text) of every message that reached `address`, after sending what is due."""
    await smtp_server.deliver(database)
    found = []
    for message in smtp_server.messages:
        if message["To"] == address:
            text, _ = parts(message)
            found.append((str(message["Subject"]), str(message["Content-Language"]), text))
    return found


def token_in(text: str, pattern: re.Pattern[str] = CONFIRM_LINK) -> str:
    match = pattern.search(text)
    assert match is not None, f"no link in {text!r}"
    return match.group(1)


async def confirm(database: Database, token: str) -> fundraising.Confirmed | None:
    async with database.transaction() as session:
        return await fundraising.confirm_email(session, token=token)


async def live_page(
    client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, slug: str, **overrides: Any
) -> Fundraiser:
    """A page started through the API and confirmed from its email."""
    payload = page_payload(**overrides)
    response = await client.post(f"/api/v1/public/campaigns/{slug}/fundraisers", json=payload)
    assert response.status_code == 202, response.text
    [(_, _, text)] = [
        m
        for m in await mail_to(smtp_server, database, payload["email"])
        if "onfirm" in m[0] or "Bevestig" in m[0]
    ]
    confirmed = await confirm(database, token_in(text))
    assert confirmed is not None
    return confirmed.fundraiser


async def checkout(client: httpx.AsyncClient, slug: str, **body: Any) -> httpx.Response:
    payload = {"amount_minor": 2500, "currency": "eur", **body}
    return await client.post(f"/api/v1/public/campaigns/{slug}/checkout", json=payload)


async def pay(
    client: httpx.AsyncClient,
    database: Database,
    settings: Settings,
    donation_id: str,
    *,
    email: str,
    card: str | None = None,
    risk_score: int = 23,
) -> None:
    """Stripe's charge (with the card's fingerprint) and the completed session, signed as Stripe signs."""
    async with database.transaction() as session:
        donation = await session.scalar(sa.select(Donation).where(Donation.id == uuid.UUID(donation_id)))
        assert donation is not None and donation.stripe_checkout_session_id is not None
        payment = stripe_events.Payment.for_donation(donation)
    fingerprint = card or donation_id.replace("-", "")[:16]
    for evt in (
        stripe_events.event(
            "charge.succeeded", payment.charge(fingerprint=fingerprint, risk_score=risk_score)
        ),
        stripe_events.event("checkout.session.completed", payment.checkout_session(email=email)),
    ):
        response = await deliver(client, evt, settings.webhook_secret)
        assert response.status_code == 200, response.text
    await process_all(database)


async def give(
    client: httpx.AsyncClient,
    database: Database,
    settings: Settings,
    slug: str,
    *,
    email: str,
    card: str | None = None,
    amount_minor: int = 2500,
    fundraiser: str | None = None,
    device: str | None = None,
    risk_score: int = 23,
    cookies: dict[str, str] | None = None,
) -> str:
    """A gift through the checkout API from a browser (`gl_device` cookie: `device`, else a new
    one), paid by signed Stripe webhooks; the card is `card`, else one of its own."""
    body: dict[str, Any] = {"amount_minor": amount_minor, "email": email}
    if fundraiser is not None:
        body["fundraiser"] = fundraiser
    jar = {**(cookies or {}), "gl_device": device or uuid.uuid4().hex}
    response = await client.post(
        f"/api/v1/public/campaigns/{slug}/checkout",
        json={"currency": "eur", **body},
        headers={"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())},
    )
    assert response.status_code == 201, response.text
    donation_id: str = response.json()["donation_id"]
    await pay(client, database, settings, donation_id, email=email, card=card, risk_score=risk_score)
    return donation_id


async def campaign_row(database: Database, campaign_id: str) -> Campaign:
    async with database.transaction() as session:
        found = await session.get(Campaign, uuid.UUID(campaign_id))
    assert found is not None
    return found


def owner_actor(campaign: dict[str, Any]) -> Actor:
    """The campaign's organisation acting through an API key (its owner's powers)."""
    return Actor(
        nonprofit_id=uuid.UUID(campaign["nonprofit_id"]),
        role=MemberRole.OWNER,
        member_id=None,
        api_key_id=uuid.uuid4(),
        label="api key test",
    )


async def leaderboard(client: httpx.AsyncClient, slug: str, **params: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/public/campaigns/{slug}/leaderboard", params=params)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries
