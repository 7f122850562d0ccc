"""A gift through a fundraiser's page, end to end: checkout API, signed Stripe webhooks, the
page's, team's and campaign's numbers, the referral the matching policies read (#15)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import sqlalchemy as sa

from campaigns.donations.models import Donation
from campaigns.fundraising.models import Fundraiser, FundraiserDonation, FundraiserStatus
from campaigns.matching.models import DonationCluster, Match
from campaigns.sharing.models import ShareLink, ShareLinkKind
from service.auth.models import AdminRole
from service.db import Database, utcnow
from service.settings import Settings
from tests.builders import insert_admin
from tests.campaigns.fundraising.helpers import (
    campaign_row,
    checkout,
    give,
    leaderboard,
    live_page,
    mail_to,
    p2p_campaign,
    pay,
)
from tests.mail_server import SmtpServer


async def _donation(database: Database, donation_id: str) -> Donation:
    async with database.transaction() as session:
        found = await session.get(Donation, uuid.UUID(donation_id))
    assert found is not None
    return found


async def _channel_link(database: Database, campaign_id: str) -> ShareLink:
    async with database.transaction() as session:
        link = ShareLink(
            id=uuid.uuid4(),
            campaign_id=uuid.UUID(campaign_id),
            code=uuid.uuid4().hex[:10],
            kind=ShareLinkKind.CHANNEL,
            channel="email",
        )
        session.add(link)
    return link


class TestAttribution:
    async def test_a_gift_through_a_page_counts_for_the_page_its_team_and_the_campaign(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        slug = campaign["slug"]
        page = await live_page(
            client, database, smtp_server, slug, goal_minor=5000, team={"create": "Team Tulip"}
        )
        mate = await live_page(
            client, database, smtp_server, slug, name="Mate Max", title="Walking", team={"join": "team-tulip"}
        )
        channel = await _channel_link(database, campaign["id"])

        # The donor also carries another link's code: the page they gave on wins.
        response = await checkout(
            client, slug, email="ann@example.org", fundraiser=page.slug, ref=channel.code
        )
        assert response.status_code == 201, response.text
        await pay(client, database, settings, response.json()["donation_id"], email="ann@example.org")
        await give(client, database, settings, slug, email="bob@example.org", fundraiser=page.slug)
        await give(client, database, settings, slug, email="cat@example.org", fundraiser=mate.slug)
        await give(client, database, settings, slug, email="dan@example.org")  # the campaign's own page

        donation = await _donation(database, response.json()["donation_id"])
        assert donation.status.value == "confirmed"
        assert donation.referral_link_id == page.share_link_id
        async with database.transaction() as session:
            row = await session.get(FundraiserDonation, donation.id)
        assert row is not None and row.fundraiser_id == page.id and row.team_id == page.team_id
        shown = (await client.get(f"/api/v1/public/campaigns/{slug}/fundraisers/{page.slug}")).json()
        assert shown["donors"] == 2
        assert shown["raised"] == {"amount_minor": 5000, "currency": "eur"}
        assert [m["kind"] for m in shown["milestones"]] == ["first_donor", "goal_reached"]
        team = (await client.get(f"/api/v1/public/campaigns/{slug}/teams/team-tulip")).json()
        assert team["donors"] == 3 and team["raised"]["amount_minor"] == 7500
        assert {m["slug"] for m in team["members"]} == {page.slug, mate.slug}
        [team_entry] = await leaderboard(client, slug, of="teams")
        assert (team_entry["slug"], team_entry["donors"]) == ("team-tulip", 3)
        assert (await campaign_row(database, campaign["id"])).raised_minor == 4 * 2500

    async def test_checkout_refuses_a_page_that_is_not_live_for_this_campaign(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        other = await p2p_campaign(client, database)
        elsewhere = await live_page(client, database, smtp_server, other["slug"])
        hidden = await live_page(
            client, database, smtp_server, campaign["slug"], name="Hidden Hugo", title="Hidden run"
        )
        async with database.transaction() as session:
            await session.execute(
                sa.update(Fundraiser).where(Fundraiser.id == hidden.id).values(status=FundraiserStatus.HIDDEN)
            )

        for slug in (elsewhere.slug, hidden.slug, "nobody"):
            response = await checkout(client, campaign["slug"], email="x@example.org", fundraiser=slug)
            assert response.status_code == 422, response.text
            assert response.json()["error"] == "fundraiser_not_live"
        async with database.transaction() as session:
            assert (await session.scalar(sa.select(sa.func.count()).select_from(Donation))) == 0


class TestReferralPolicies:
    async def test_a_new_donor_through_a_page_earns_the_referral_bonus_but_the_fundraiser_giving_does_not(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        finance = await insert_admin(database, role=AdminRole.FINANCE)
        now = utcnow()
        created = await client.post(
            "/api/v1/admin/matching-programs",
            json={
                "name": "Bring a friend",
                "currency": "eur",
                "budget_minor": 100_000,
                "starts_at": (now - timedelta(minutes=1)).isoformat(),
                "ends_at": (now + timedelta(days=30)).isoformat(),
                "hold_days": 7,
                "policy": {"policy": "referral_bonus", "bonus_minor": 500},
            },
            headers=finance.headers,
        )
        assert created.status_code == 201, created.text
        page = await live_page(client, database, smtp_server, campaign["slug"], email="fia@example.org")

        friend = await give(
            client, database, settings, campaign["slug"], email="friend@example.org", fundraiser=page.slug
        )
        own = await give(
            client,
            database,
            settings,
            campaign["slug"],
            email="fia@example.org",
            card="card-of-fia",
            fundraiser=page.slug,
        )
        # The fundraiser again, under an invented address, with the same card.
        sock = await give(
            client,
            database,
            settings,
            campaign["slug"],
            email="not-fia@example.net",
            card="card-of-fia",
            fundraiser=page.slug,
        )

        async with database.transaction() as session:
            matches = {
                d: await session.scalar(sa.select(Match).where(Match.donation_id == uuid.UUID(d)))
                for d in (friend, own, sock)
            }
            # Who the fundraiser is, as matching found out from their own gift.
            fundraiser_cluster = await session.scalar(
                sa.select(DonationCluster.cluster_id).where(DonationCluster.donation_id == uuid.UUID(own))
            )
        friend_match = matches[friend]
        assert friend_match is not None and friend_match.amount_minor == 500
        assert fundraiser_cluster is not None and friend_match.referrer_cluster_id == fundraiser_cluster
        assert [m.amount_minor if m else 0 for m in (matches[own], matches[sock])] == [0, 0]


class TestShareLink:
    async def test_a_gift_on_the_campaign_page_after_the_fundraisers_share_link_counts_for_them(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        page = await live_page(client, database, smtp_server, campaign["slug"])
        shown = (
            await client.get(f"/api/v1/public/campaigns/{campaign['slug']}/fundraisers/{page.slug}")
        ).json()
        followed = await client.get(shown["share_url"].removeprefix("http://testserver"))
        assert followed.status_code in (302, 303, 307), followed.text
        referral = {k: v for k, v in followed.cookies.items() if k.startswith("gl_ref_")}
        assert referral

        donation_id = await give(
            client, database, settings, campaign["slug"], email="via@example.org", cookies=referral
        )

        assert (await _donation(database, donation_id)).referral_link_id == page.share_link_id
        after = (
            await client.get(f"/api/v1/public/campaigns/{campaign['slug']}/fundraisers/{page.slug}")
        ).json()
        assert after["donors"] == 1


class TestFirstDonorEmail:
    async def test_the_fundraiser_hears_of_their_first_donor_once(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        page = await live_page(
            client, database, smtp_server, campaign["slug"], email="first@example.org", language="nl"
        )
        await give(
            client, database, settings, campaign["slug"], email="x1@example.org"
        )  # not through the page

        await give(client, database, settings, campaign["slug"], email="x2@example.org", fundraiser=page.slug)
        await give(client, database, settings, campaign["slug"], email="x3@example.org", fundraiser=page.slug)

        subjects = [s for s, _, _ in await mail_to(smtp_server, database, "first@example.org")]
        assert subjects.count("Je inzamelingsactie heeft de eerste donateur") == 1
