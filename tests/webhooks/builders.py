"""Typed builders for webhook tests: a live campaign, pending donations, delivery, processing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import sqlalchemy as sa

from campaigns.campaign.models import Campaign
from campaigns.donations.models import Donation
from service.db import Database
from tests.builders import insert_admin, live_campaign, sign_up, verify
from tests.webhooks import stripe_events
from webhooks.models import WebhookEvent
from webhooks.processor import process_due_events


@dataclass(frozen=True)
class LiveCampaign:
    id: uuid.UUID
    nonprofit_id: uuid.UUID
    currency: str


async def create_live_campaign(client: httpx.AsyncClient, database: Database) -> LiveCampaign:
    org = await sign_up(client)
    admin = await insert_admin(database)
    await verify(client, admin, org)
    campaign = await live_campaign(client, org, admin)
    return LiveCampaign(
        id=uuid.UUID(campaign["id"]), nonprofit_id=uuid.UUID(org.id), currency=campaign["currency"]
    )


async def insert_donation(
    database: Database,
    campaign: LiveCampaign,
    *,
    amount_minor: int = 2500,
    fee_cover_minor: int = 0,
    donor_email: str | None = None,
    donor_name: str | None = None,
    anonymous: bool = False,
    device_hash: str | None = None,
    client_hash: str | None = None,
    referral_link_id: uuid.UUID | None = None,
    donation_id: uuid.UUID | None = None,
    destination_account_id: str | None = None,
) -> stripe_events.Payment:
    """A pending donation as donor checkout leaves it, and the Stripe objects that will pay it."""
    donation_id = donation_id or uuid.uuid4()
    session_id = stripe_events.new_id("cs_test")
    async with database.transaction() as session:
        session.add(
            Donation(
                id=donation_id,
                campaign_id=campaign.id,
                nonprofit_id=campaign.nonprofit_id,
                amount_minor=amount_minor,
                fee_cover_minor=fee_cover_minor,
                currency=campaign.currency,
                donor_email=donor_email,
                donor_name=donor_name,
                anonymous=anonymous,
                device_hash=device_hash,
                client_hash=client_hash,
                referral_link_id=referral_link_id,
                stripe_checkout_session_id=session_id,
                destination_account_id=destination_account_id,
            )
        )
    return stripe_events.Payment(
        donation_id=donation_id,
        session_id=session_id,
        amount_minor=amount_minor + fee_cover_minor,
        currency=campaign.currency,
        destination=destination_account_id,
    )


async def deliver(
    client: httpx.AsyncClient, evt: dict[str, Any], secret: str, *, path: str = "/webhooks/stripe"
) -> httpx.Response:
    payload = stripe_events.encode(evt)
    return await client.post(path, content=payload, headers=stripe_events.signed_headers(payload, secret))


async def process_all(database: Database, *, rounds: int = 20) -> int:
    """Run the processor until nothing is left, making backed-off events due again each round."""
    total = 0
    for _ in range(rounds):
        async with database.transaction() as session:
            await session.execute(
                sa.update(WebhookEvent)
                .where(WebhookEvent.processed_at.is_(None), WebhookEvent.dead.is_(False))
                .values(next_attempt_at=None)
            )
        done_this_round = 0
        while (done := await process_due_events(database)) > 0:
            done_this_round += done
        total += done_this_round
        if done_this_round == 0:
            break
    return total


async def get_donation(database: Database, donation_id: str) -> Donation:
    async with database.transaction() as session:
        found = await session.get(Donation, uuid.UUID(donation_id))
    assert found is not None
    return found


async def get_campaign(database: Database, campaign_id: uuid.UUID) -> Campaign:
    async with database.transaction() as session:
        found = await session.scalar(sa.select(Campaign).where(Campaign.id == campaign_id))
    assert found is not None
    return found


async def clone_campaign(database: Database, campaign: LiveCampaign) -> LiveCampaign:
    """Another live campaign of the same nonprofit, inserted directly (sign-up is rate limited)."""
    async with database.transaction() as session:
        original = await session.get(Campaign, campaign.id)
        assert original is not None
        copy_id = uuid.uuid4()
        columns = {c.key: getattr(original, c.key) for c in sa.inspect(Campaign).column_attrs}
        columns.update(
            id=copy_id, slug=f"{original.slug[:60]}-{copy_id.hex[:8]}", raised_minor=0, donor_count=0
        )
        session.add(Campaign(**columns))
    return LiveCampaign(id=copy_id, nonprofit_id=campaign.nonprofit_id, currency=campaign.currency)
