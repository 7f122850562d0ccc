"""Builders for matching tests: programs through the admin API, gifts through signed webhooks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from campaigns.matching.models import Match, MatchingProgram, MatchStatus
from campaigns.sharing.models import ShareLink, ShareLinkKind
from service import ledger
from service.auth.models import AdminRole
from service.db import Database, utcnow
from service.settings import Settings
from tests.builders import AdminUser, Org, insert_admin, live_campaign, sign_up, verify
from tests.webhooks import stripe_events
from tests.webhooks.builders import LiveCampaign, create_live_campaign, deliver, insert_donation, process_all


@dataclass
class World:
    client: httpx.AsyncClient
    database: Database
    settings: Settings
    finance: AdminUser
    reviewer: AdminUser
    campaign: LiveCampaign


async def make_world(client: httpx.AsyncClient, database: Database, settings: Settings) -> World:
    campaign = await create_live_campaign(client, database)
    finance = await insert_admin(database, role=AdminRole.FINANCE)
    reviewer = await insert_admin(database, role=AdminRole.REVIEWER)
    return World(client, database, settings, finance, reviewer, campaign)


async def make_world_with_org(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> tuple[World, Org]:
    """A world whose nonprofit's API key the test holds (to act on the nonprofit's side)."""
    org = await sign_up(client)
    verifier = await insert_admin(database)
    await verify(client, verifier, org)
    campaign = await live_campaign(client, org, verifier)
    live = LiveCampaign(
        id=uuid.UUID(campaign["id"]), nonprofit_id=uuid.UUID(org.id), currency=campaign["currency"]
    )
    finance = await insert_admin(database, role=AdminRole.FINANCE)
    reviewer = await insert_admin(database, role=AdminRole.REVIEWER)
    return World(client, database, settings, finance, reviewer, live), org


def program_payload(**overrides: Any) -> dict[str, Any]:
    now = utcnow()
    payload: dict[str, Any] = {
        "name": "Winter match",
        "currency": "eur",
        "budget_minor": 100_000,
        "starts_at": (now - timedelta(minutes=1)).isoformat(),
        "ends_at": (now + timedelta(days=30)).isoformat(),
        "hold_days": 7,
        "policy": {"policy": "fixed_ratio", "ratio_bps": 10_000},
    }
    payload.update(overrides)
    return payload


async def make_program(world: World, **overrides: Any) -> uuid.UUID:
    response = await world.client.post(
        "/api/v1/admin/matching-programs", json=program_payload(**overrides), headers=world.finance.headers
    )
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


async def give(
    world: World,
    *,
    amount_minor: int = 2_500,
    email: str | None = None,
    fingerprint: str | None = None,
    device: str | None = None,
    network: str | None = None,
    risk_score: int = 23,
    referral_link_id: uuid.UUID | None = None,
    campaign: LiveCampaign | None = None,
    process: bool = True,
) -> stripe_events.Payment:
    """A donation paid by card: the charge first (as Stripe usually sends it), then the session."""
    target = campaign or world.campaign
    email = email or f"donor-{uuid.uuid4().hex[:10]}@example.org"
    payment = await insert_pending(
        world.database,
        target,
        amount_minor=amount_minor,
        email=email,
        device=device,
        network=network,
        referral_link_id=referral_link_id,
    )
    card = fingerprint or uuid.uuid4().hex[:16]
    for evt in (
        stripe_events.event("charge.succeeded", payment.charge(fingerprint=card, risk_score=risk_score)),
        stripe_events.event("checkout.session.completed", payment.checkout_session(email=email)),
    ):
        response = await deliver(world.client, evt, world.settings.webhook_secret)
        assert response.status_code == 200, response.text
    if process:
        await process_all(world.database)
    return payment


async def insert_pending(
    database: Database,
    campaign: LiveCampaign,
    *,
    amount_minor: int,
    email: str | None,
    device: str | None = None,
    network: str | None = None,
    referral_link_id: uuid.UUID | None = None,
) -> stripe_events.Payment:
    return await insert_donation(
        database,
        campaign,
        amount_minor=amount_minor,
        donor_email=email,
        device_hash=device,
        client_hash=network,
        referral_link_id=referral_link_id,
    )


async def refund(world: World, payment: stripe_events.Payment, *, amount_minor: int) -> None:
    """One refund of `amount_minor` as Stripe reports it (the refund, then the charge's total)."""
    made = payment.refund(refund_id=stripe_events.new_id("re"), amount_minor=amount_minor)
    for evt in (
        stripe_events.event("refund.created", made),
        stripe_events.event("charge.refunded", payment.charge(amount_refunded=amount_minor)),
    ):
        await deliver(world.client, evt, world.settings.webhook_secret)
    await process_all(world.database)


async def supporter_link(
    database: Database, payment: stripe_events.Payment, campaign: LiveCampaign
) -> uuid.UUID:
    """The personal share link a donor gets on the thank-you page."""
    link_id = uuid.uuid4()
    async with database.transaction() as session:
        session.add(
            ShareLink(
                id=link_id,
                campaign_id=campaign.id,
                code=uuid.uuid4().hex[:12],
                kind=ShareLinkKind.SUPPORTER,
                donation_id=uuid.UUID(payment.donation_id),
                visit_count=0,
            )
        )
    return link_id


async def matches_for(database: Database, payment: stripe_events.Payment) -> list[Match]:
    async with database.transaction() as session:
        rows = await session.scalars(
            sa.select(Match).where(Match.donation_id == uuid.UUID(payment.donation_id))
        )
        return list(rows.all())


async def only_match(database: Database, payment: stripe_events.Payment) -> Match:
    found = await matches_for(database, payment)
    assert len(found) == 1, found
    return found[0]


async def reload(database: Database, match: Match) -> Match:
    async with database.transaction() as session:
        found = await session.get(Match, match.id)
    assert found is not None
    return found


async def program_row(database: Database, program_id: uuid.UUID) -> MatchingProgram:
    async with database.transaction() as session:
        found = await session.get(MatchingProgram, program_id)
    assert found is not None
    return found


async def live_total(database: Database, program_id: uuid.UUID) -> int:
    async with database.transaction() as session:
        total = await session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(Match.amount_minor), 0)).where(
                Match.program_id == program_id, Match.status != MatchStatus.VOIDED
            )
        )
    return int(total or 0)


async def pending_balance(database: Database, *, code: str, currency: str) -> int:
    """Credits minus debits of pending transfers not yet settled (what is reserved on an account)."""
    async with database.transaction() as session:
        account = await session.scalar(
            sa.select(ledger.LedgerAccount.id).where(
                ledger.LedgerAccount.code == code, ledger.LedgerAccount.currency == currency
            )
        )
        if account is None:
            return 0
        settled = sa.select(ledger.LedgerTransfer.pending_id).where(
            ledger.LedgerTransfer.pending_id.is_not(None)
        )
        rows = await session.execute(
            sa.select(ledger.LedgerTransfer.debit_account_id, ledger.LedgerTransfer.amount_minor).where(
                ledger.LedgerTransfer.kind == ledger.TransferKind.PENDING,
                ledger.LedgerTransfer.id.not_in(settled),
                sa.or_(
                    ledger.LedgerTransfer.debit_account_id == account,
                    ledger.LedgerTransfer.credit_account_id == account,
                ),
            )
        )
        return sum(-amount if debit == account else amount for debit, amount in rows)
