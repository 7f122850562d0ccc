"""Builders for the members' emails: an organisation the test holds the key of, its members,
their settings through the API, and gifts confirmed through signed Stripe webhooks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx

from campaigns.donations.models import Donation
from service.db import Database
from service.settings import Settings
from tests import builders
from tests.campaigns.dashboard.helpers import submit
from tests.webhooks import stripe_events
from tests.webhooks.builders import LiveCampaign, deliver, insert_donation, process_all


@dataclass(frozen=True)
class Organisation:
    org: builders.Org
    campaign: LiveCampaign
    owner_id: str


async def organisation(client: httpx.AsyncClient, database: Database, **sign_up: Any) -> Organisation:
    org = await builders.sign_up(client, **sign_up)
    admin = await builders.insert_admin(database)
    await builders.verify(client, admin, org)
    campaign = await builders.live_campaign(client, org, admin, title="Winter meals")
    live = LiveCampaign(
        id=uuid.UUID(campaign["id"]), nonprofit_id=uuid.UUID(org.id), currency=campaign["currency"]
    )
    members = (await client.get("/api/v1/members", headers=org.headers)).json()["data"]
    return Organisation(org, live, members[0]["id"])


async def add_member(
    client: httpx.AsyncClient, org: builders.Org, email: str, *, role: str = "editor"
) -> str:
    """Invite through the API, accept through the page (the client is signed in as them after);
    the member's id."""
    invited = await client.post(
        "/api/v1/members/invites", json={"email": email, "role": role}, headers=org.headers
    )
    assert invited.status_code == 201, invited.text
    path = httpx.URL(invited.json()["accept_url"]).path
    accepted = await submit(client, path, {"password": builders.PASSWORD}, page=path)
    assert accepted.status_code == 303, accepted.text
    members = (await client.get("/api/v1/members", headers=org.headers)).json()["data"]
    return str(next(m["id"] for m in members if m["email"] == email))


async def set_notifications(
    client: httpx.AsyncClient,
    org: builders.Org,
    member_id: str,
    *,
    gift_emails: str,
    money_emails: bool = True,
    language: str = "en",
) -> httpx.Response:
    body = {"gift_emails": gift_emails, "money_emails": money_emails, "language": language}
    return await client.put(f"/api/v1/members/{member_id}/notifications", json=body, headers=org.headers)


async def confirmed_gift(
    client: httpx.AsyncClient,
    database: Database,
    settings: Settings,
    campaign: LiveCampaign,
    *,
    amount_minor: int = 2500,
    name: str | None = "Anna de Vries",
    message: str | None = None,
    times: int = 1,
) -> stripe_events.Payment:
    """A card gift whose events Stripe delivers `times` times over (redeliveries), then processed."""
    payment = await insert_donation(
        database,
        campaign,
        amount_minor=amount_minor,
        donor_email=f"donor-{uuid.uuid4().hex[:8]}@example.org",
        donor_name=name,
    )
    if message is not None:
        await _leave_message(database, payment.donation_id, message)
    events = [
        stripe_events.event("checkout.session.completed", payment.checkout_session()),
        stripe_events.event("charge.succeeded", payment.charge()),
    ]
    for _ in range(times):
        for evt in events:
            assert (await deliver(client, evt, settings.webhook_secret)).status_code == 200
        await process_all(database)
    return payment


async def _leave_message(database: Database, donation_id: str, message: str) -> None:
    async with database.transaction() as session:
        donation = await session.get(Donation, uuid.UUID(donation_id))
        assert donation is not None
        donation.message = message


def to(messages: list[EmailMessage], address: str) -> list[EmailMessage]:
    return [m for m in messages if m["To"] == address]
