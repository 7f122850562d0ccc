"""A fundraiser page earns only while it is live (#15 review, B1), and every fundraiser count uses
one definition of a settled gift (B3). Donors drive everything: the checkout API, the page's
share link followed in a browser, Stripe's events signed as Stripe signs them."""

from __future__ import annotations

import re
import uuid
from typing import Any, Literal

import httpx
import pytest
import sqlalchemy as sa

from campaigns.donations.models import Donation, DonationStatus
from campaigns.fundraising import service as fundraising
from campaigns.fundraising.models import Fundraiser, FundraiserDonation
from campaigns.matching.models import Match
from service.auth.models import AdminRole
from service.db import Database
from service.settings import Settings
from tests.builders import insert_admin
from tests.campaigns.dashboard import helpers as dashboard
from tests.campaigns.fundraising.helpers import (
    campaign_row,
    checkout,
    give,
    live_page,
    owner_actor,
    p2p_campaign,
    pay,
)
from tests.campaigns.matching.helpers import program_payload
from tests.mail_server import SmtpServer
from tests.webhooks import stripe_events
from tests.webhooks.builders import deliver, process_all

BONUS_MINOR = 500
TIER_0_MATCH = 25
"""1% of a 25.00 gift: what tiers_program gives while no referred donor is counted."""


async def referral_program(client: httpx.AsyncClient, database: Database) -> None:
    """A platform program that gives a bonus for every new donor a referral brought."""
    policy = {"policy": "referral_bonus", "bonus_minor": BONUS_MINOR}
    await _program(client, database, program_payload(name="Bring a friend", policy=policy))


async def tiers_program(client: httpx.AsyncClient, database: Database) -> None:
    """A platform program that matches 1% until one referred donor gave, then 1:1: every
    referred donor it counts shows in the next gift's match."""
    tiers = [{"min_referred_donors": 0, "ratio_bps": 100}, {"min_referred_donors": 1, "ratio_bps": 10_000}]
    policy = {"policy": "engagement_tiers", "tiers": tiers}
    await _program(client, database, program_payload(name="Bring the crowd", policy=policy))


async def _program(client: httpx.AsyncClient, database: Database, payload: dict[str, Any]) -> None:
    finance = await insert_admin(database, role=AdminRole.FINANCE)
    created = await client.post("/api/v1/admin/matching-programs", json=payload, headers=finance.headers)
    assert created.status_code == 201, created.text


async def share_cookies(client: httpx.AsyncClient, slug: str, page: Fundraiser) -> dict[str, str]:
    """Follow the page's own share link as a visitor's browser does; its referral cookie."""
    shown = (await client.get(f"/api/v1/public/campaigns/{slug}/fundraisers/{page.slug}")).json()
    followed = await client.get(shown["share_url"].removeprefix("http://testserver"))
    assert followed.status_code in (302, 303, 307), followed.text
    cookies = {k: v for k, v in followed.cookies.items() if k.startswith("gl_ref_")}
    assert cookies
    return cookies


async def share_code(client: httpx.AsyncClient, slug: str, page: Fundraiser) -> str:
    shown = (await client.get(f"/api/v1/public/campaigns/{slug}/fundraisers/{page.slug}")).json()
    code: str = shown["share_url"].rstrip("/").rsplit("/", 1)[-1]
    return code


async def take_down(database: Database, campaign: dict[str, Any], page: Fundraiser, how: str) -> None:
    decide = fundraising.hide if how == "hide" else fundraising.end
    async with database.transaction() as session:
        await decide(session, actor=owner_actor(campaign), fundraiser_id=page.id, note="test")


async def donation_and_row(
    database: Database, donation_id: str
) -> tuple[Donation, FundraiserDonation | None, Match | None]:
    async with database.transaction() as session:
        donation = await session.get(Donation, uuid.UUID(donation_id))
        row = await session.get(FundraiserDonation, uuid.UUID(donation_id))
        match = await session.scalar(sa.select(Match).where(Match.donation_id == uuid.UUID(donation_id)))
    assert donation is not None
    return donation, row, match


def earned(match: Match | None) -> int:
    return 0 if match is None else match.amount_minor


class TestATakenDownPageEarnsNothing:
    @pytest.mark.parametrize("how", ["hide", "end"])
    async def test_its_share_link_brings_no_referral_bonus_and_counts_for_no_fundraiser(
        self,
        how: Literal["hide", "end"],
        client: httpx.AsyncClient,
        database: Database,
        settings: Settings,
        smtp_server: SmtpServer,
    ) -> None:
        campaign = await p2p_campaign(client, database)
        slug = campaign["slug"]
        await referral_program(client, database)
        page = await live_page(client, database, smtp_server, slug, email="fia@example.org")
        cookies = await share_cookies(client, slug, page)
        code = await share_code(client, slug, page)
        # While the page is live its link earns: the program is set up to pay.
        before = await give(client, database, settings, slug, email="early@example.org", cookies=cookies)
        assert earned((await donation_and_row(database, before))[2]) == BONUS_MINOR

        await take_down(database, campaign, page, how)
        by_cookie = await give(client, database, settings, slug, email="late@example.org", cookies=cookies)
        by_code = await checkout(client, slug, email="later@example.org", ref=code)
        assert by_code.status_code == 201, by_code.text
        await pay(client, database, settings, by_code.json()["donation_id"], email="later@example.org")

        for donation_id in (by_cookie, by_code.json()["donation_id"]):
            donation, row, match = await donation_and_row(database, donation_id)
            assert donation.status is DonationStatus.CONFIRMED  # the gift itself goes through
            assert donation.referral_link_id is None
            assert row is None
            assert earned(match) == 0
        assert (await campaign_row(database, campaign["id"])).raised_minor == 3 * 2500
        async with database.transaction() as session:
            tally = await fundraising.totals_of(
                session, campaign_id=uuid.UUID(campaign["id"]), nonprofit_id=page.nonprofit_id
            )
        assert tally.of_fundraiser(page.id).raised_minor == 2500  # only the gift made while live

    async def test_a_page_hidden_between_checkout_and_confirmation_earns_no_referral_match(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        slug = campaign["slug"]
        await referral_program(client, database)
        page = await live_page(client, database, smtp_server, slug, email="fia@example.org")
        started = await checkout(client, slug, email="friend@example.org", fundraiser=page.slug)
        assert started.status_code == 201, started.text
        donation_id = started.json()["donation_id"]
        control = await give(
            client, database, settings, slug, email="control@example.org", fundraiser=page.slug
        )

        await take_down(database, campaign, page, "hide")
        await pay(client, database, settings, donation_id, email="friend@example.org")

        donation, _, match = await donation_and_row(database, donation_id)
        assert donation.status is DonationStatus.CONFIRMED
        assert earned(match) == 0
        assert earned((await donation_and_row(database, control))[2]) == BONUS_MINOR

    async def test_a_page_hidden_before_confirmation_brings_no_referred_donor_to_engagement_tiers(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        """#15 second review, Y1a: the gift settles without the dead page's link, so the tiers
        count no referred donor, for it or for anyone after it."""
        campaign = await p2p_campaign(client, database)
        slug = campaign["slug"]
        await tiers_program(client, database)
        page = await live_page(client, database, smtp_server, slug, email="fia@example.org")
        started = await checkout(client, slug, email="friend@example.org", fundraiser=page.slug)
        assert started.status_code == 201, started.text
        donation_id = started.json()["donation_id"]

        await take_down(database, campaign, page, "hide")
        await pay(client, database, settings, donation_id, email="friend@example.org")
        after = await give(client, database, settings, slug, email="next@example.org")

        donation, row, match = await donation_and_row(database, donation_id)
        assert donation.status is DonationStatus.CONFIRMED
        assert donation.referral_link_id is None
        assert row is not None  # it was given on the page while live: it still counts for it
        assert earned(match) == TIER_0_MATCH
        assert earned((await donation_and_row(database, after))[2]) == TIER_0_MATCH


class TestOneDefinitionOfSettled:
    async def test_a_disputed_gift_counts_in_no_fundraiser_total_or_gift_count(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        slug = campaign["slug"]
        page = await live_page(client, database, smtp_server, slug)
        kept = await give(client, database, settings, slug, email="kept@example.org", fundraiser=page.slug)
        disputed = await give(
            client, database, settings, slug, email="angry@example.org", fundraiser=page.slug
        )
        await dispute(client, database, settings, disputed)

        await dashboard.log_in(client, campaign["_org"].email)
        shown = await client.get(f"/dashboard/fundraisers/{page.id}")
        public = (await client.get(f"/api/v1/public/campaigns/{slug}/fundraisers/{page.slug}")).json()

        assert shown.status_code == 200, shown.text
        totals = re.search(r'<dl class="fr-totals" id="fundraiser-totals">(.*?)</dl>', shown.text, re.S)
        assert totals is not None
        raised, donors, gifts, *_ = re.findall(r"<dd>(.*?)</dd>", totals.group(1))
        assert (raised, donors, gifts) == ("€25.00", "1", "1")
        assert f'id="gift-{kept}"' in shown.text and f'id="gift-{disputed}"' in shown.text
        assert (public["donors"], public["raised"]["amount_minor"]) == (1, 2500)


async def dispute(
    client: httpx.AsyncClient, database: Database, settings: Settings, donation_id: str
) -> None:
    """Stripe's charge.dispute.created for the donation's charge, signed as Stripe signs it."""
    async with database.transaction() as session:
        donation = await session.get(Donation, uuid.UUID(donation_id))
    assert donation is not None and donation.stripe_checkout_session_id is not None
    payment = stripe_events.Payment.for_donation(donation)
    assert donation.stripe_charge_id is not None and donation.stripe_payment_intent_id is not None
    payment.charge_id, payment.payment_intent_id = (
        donation.stripe_charge_id,
        donation.stripe_payment_intent_id,
    )
    evt = stripe_events.event(
        "charge.dispute.created", payment.dispute(dispute_id=stripe_events.new_id("dp"))
    )
    response = await deliver(client, evt, settings.webhook_secret)
    assert response.status_code == 200, response.text
    await process_all(database)
    async with database.transaction() as session:
        status = await session.scalar(sa.select(Donation.status).where(Donation.id == donation.id))
    assert status is DonationStatus.DISPUTED
