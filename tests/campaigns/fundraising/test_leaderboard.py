"""Leaderboards rank by distinct donors as identity clusters, and the three named attacks (#15).

Every gift goes through the real checkout API and is paid by signed Stripe webhooks (the
charge carries the card's fingerprint, the session the donor's email), so the identity keys
are the ones production sees.
"""

from __future__ import annotations

import uuid

import httpx
import sqlalchemy as sa

from campaigns.fundraising import service as fundraising
from campaigns.fundraising.models import Fundraiser, FundraiserStatus
from campaigns.fundraising.starting import NewFundraiser
from service.db import Database
from service.settings import Settings
from tests.campaigns.fundraising.helpers import give, leaderboard, live_page, p2p_campaign
from tests.mail_server import SmtpServer


class TestDistinctDonors:
    async def test_a_sybil_ring_sharing_one_card_does_not_climb(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        slug = campaign["slug"]
        honest = await live_page(
            client, database, smtp_server, slug, name="Honest Hanna", title="Running for coats"
        )
        ring = await live_page(
            client, database, smtp_server, slug, name="Ring Rick", title="Cycling for coats"
        )
        for n in range(3):
            await give(
                client, database, settings, slug, email=f"friend{n}@example.org", fundraiser=honest.slug
            )
        for n in range(6):
            # Six invented addresses, six browsers, one card.
            await give(
                client,
                database,
                settings,
                slug,
                email=f"sock{n}@example.net",
                card="card-of-rick",
                fundraiser=ring.slug,
            )

        board = await leaderboard(client, slug)

        assert [(e["slug"], e["rank"], e["donors"]) for e in board] == [
            (honest.slug, 1, 3),
            (ring.slug, 2, 1),
        ]
        assert board[1]["raised"] == {"amount_minor": 6 * 2500, "currency": "eur"}
        by_amount = await leaderboard(client, slug, by="amount")
        assert by_amount[0]["slug"] == ring.slug  # money is shown and may rank when asked, donors by default

    async def test_a_fundraiser_giving_to_their_own_page_under_many_emails_counts_once(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        page = await live_page(client, database, smtp_server, campaign["slug"], email="self@example.org")
        for n, email in enumerate(
            ["self@example.org", "Self+1@example.org", "me.again@example.org", "other@example.org"]
        ):
            # One phone (device), a different card each time.
            await give(
                client,
                database,
                settings,
                campaign["slug"],
                email=email,
                device="one-phone",
                card=f"card-{n}",
                fundraiser=page.slug,
            )

        shown = (
            await client.get(f"/api/v1/public/campaigns/{campaign['slug']}/fundraisers/{page.slug}")
        ).json()

        assert shown["donors"] == 1
        assert shown["raised"]["amount_minor"] == 4 * 2500

    async def test_a_fundraiser_giving_with_one_card_under_many_emails_and_their_own_counts_once(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        slug = campaign["slug"]
        honest = await live_page(
            client, database, smtp_server, slug, name="Honest Hanna", title="Running for coats"
        )
        page = await live_page(
            client, database, smtp_server, slug, email="fia@example.org", name="Fia", title="Fia swims"
        )
        for n in range(2):
            await give(client, database, settings, slug, email=f"pal{n}@example.org", fundraiser=honest.slug)
        # Each gift from a new browser: their own address (twice, spelled differently, the second
        # time with another card), then invented addresses with the first card.
        gifts = [
            ("fia@example.org", "card-of-fia"),
            (" FIA@Example.org", "card-of-fias-partner"),
            ("swimmer1@example.net", "card-of-fia"),
            ("swimmer2@example.net", "card-of-fia"),
            ("swimmer3@example.net", "card-of-fia"),
        ]
        for email, card in gifts:
            await give(client, database, settings, slug, email=email, card=card, fundraiser=page.slug)
        await give(client, database, settings, slug, email="friend@example.org", fundraiser=page.slug)

        board = await leaderboard(client, slug)

        assert [(e["slug"], e["donors"]) for e in board] == [(honest.slug, 2), (page.slug, 2)]
        assert board[1]["raised"]["amount_minor"] == 6 * 2500
        assert (
            board[0]["slug"] == honest.slug
        )  # reached two donors first; five gifts of one person do not win

    async def test_donors_excluded_from_matching_do_not_count_toward_a_rank(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        org = campaign["_org"]
        page = await live_page(client, database, smtp_server, campaign["slug"])
        await give(client, database, settings, campaign["slug"], email=org.email, fundraiser=page.slug)
        await give(
            client,
            database,
            settings,
            campaign["slug"],
            email="risky@example.org",
            risk_score=90,
            fundraiser=page.slug,
        )
        await give(
            client, database, settings, campaign["slug"], email="real@example.org", fundraiser=page.slug
        )

        [entry] = await leaderboard(client, campaign["slug"])

        assert entry["donors"] == 1
        assert entry["raised"]["amount_minor"] == 3 * 2500

    async def test_ties_go_to_who_reached_the_count_first(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        slug = campaign["slug"]
        older = await live_page(
            client, database, smtp_server, slug, name="Older Olga", title="Swimming for coats"
        )
        newer = await live_page(
            client, database, smtp_server, slug, name="Newer Nina", title="Baking for coats"
        )
        await give(client, database, settings, slug, email="a@example.org", fundraiser=newer.slug)
        await give(client, database, settings, slug, email="b@example.org", fundraiser=older.slug)

        board = await leaderboard(client, slug)
        teams_empty = await leaderboard(client, slug, of="teams")

        assert [e["slug"] for e in board] == [newer.slug, older.slug]
        assert [e["donors"] for e in board] == [1, 1]
        assert teams_empty == []


class TestCap:
    async def test_the_board_never_lists_below_rank_50(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await p2p_campaign(client, database)
        async with database.transaction() as session:
            for n in range(55):
                page = await fundraising.start_fundraiser(
                    session,
                    campaign_slug=campaign["slug"],
                    data=NewFundraiser(
                        name=f"Walker {n}", email=f"w{n}@example.org", title=f"Walk number {n}"
                    ),
                )
                page.status = FundraiserStatus.LIVE

        board = await leaderboard(client, campaign["slug"])
        teams = await leaderboard(client, campaign["slug"], of="teams", by="amount")

        assert len(board) == 50
        assert [e["rank"] for e in board] == list(range(1, 51))
        assert teams == []
        cached = await client.get(f"/api/v1/public/campaigns/{campaign['slug']}/leaderboard")
        assert cached.headers["cache-control"].startswith("public, max-age=15")
        refused = await client.get(
            f"/api/v1/public/campaigns/{campaign['slug']}/leaderboard", params={"of": "people"}
        )
        assert refused.status_code == 422


class TestOnlyLivePages:
    async def test_hidden_and_ended_pages_leave_the_board_and_their_page(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        page = await live_page(client, database, smtp_server, campaign["slug"])
        async with database.transaction() as session:
            await session.execute(
                sa.update(Fundraiser).where(Fundraiser.id == page.id).values(status=FundraiserStatus.HIDDEN)
            )

        assert await leaderboard(client, campaign["slug"]) == []
        gone = await client.get(f"/api/v1/public/campaigns/{campaign['slug']}/fundraisers/{page.slug}")
        assert gone.status_code == 404 and gone.json()["error"] == "fundraiser_not_found"
        unknown = await client.get(
            f"/api/v1/public/campaigns/{campaign['slug']}/fundraisers/{uuid.uuid4().hex}"
        )
        assert unknown.status_code == 404
        no_campaign = await client.get("/api/v1/public/campaigns/no-such-campaign/leaderboard")
        assert no_campaign.status_code == 404 and no_campaign.json()["error"] == "campaign_not_found"

    async def test_switching_peer_to_peer_off_takes_pages_offline_and_on_brings_them_back(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        page = await live_page(client, database, smtp_server, campaign["slug"])
        url = f"/api/v1/public/campaigns/{campaign['slug']}/fundraisers/{page.slug}"
        switch = f"/api/v1/campaigns/{campaign['id']}"
        headers = campaign["_org"].headers

        off = await client.patch(switch, json={"fundraisers_enabled": False}, headers=headers)
        assert off.status_code == 200, off.text
        assert (await client.get(url)).status_code == 404
        refused = await client.post(
            f"/api/v1/public/campaigns/{campaign['slug']}/checkout",
            json={"amount_minor": 2500, "currency": "eur", "fundraiser": page.slug},
        )
        assert refused.status_code == 422 and refused.json()["error"] == "fundraiser_not_live"

        await client.patch(switch, json={"fundraisers_enabled": True}, headers=headers)
        assert (await client.get(url)).status_code == 200
