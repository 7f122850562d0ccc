"""Starting, confirming and reading fundraiser pages through the public API (#15)."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from campaigns.fundraising import service as fundraising
from campaigns.fundraising.models import Fundraiser, FundraiserLink, FundraiserStatus
from service.db import Database
from tests.campaigns.fundraising.helpers import (
    confirm,
    live_page,
    mail_to,
    owner_actor,
    p2p_campaign,
    start,
    token_in,
)
from tests.campaigns.giving.helpers import live
from tests.mail_server import SmtpServer


async def _pages(database: Database) -> list[Fundraiser]:
    async with database.transaction() as session:
        return list((await session.scalars(sa.select(Fundraiser))).all())


class TestStart:
    async def test_a_page_waits_for_its_email_and_goes_live_when_confirmed(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)

        response = await start(
            client, campaign["slug"], email="Runner@Example.org", team={"create": "Team Tulip"}
        )

        assert response.status_code == 202, response.text
        assert "confirm" in response.json()["message"]
        [page] = await _pages(database)
        assert page.status is FundraiserStatus.PENDING_EMAIL
        assert page.email == "runner@example.org"
        hidden = await client.get(f"/api/v1/public/campaigns/{campaign['slug']}/fundraisers/{page.slug}")
        assert hidden.status_code == 404
        [(subject, language, text)] = await mail_to(smtp_server, database, "runner@example.org")
        assert "Confirm" in subject and language == "en"

        confirmed = await confirm(database, token_in(text))

        assert confirmed is not None and confirmed.fundraiser.status is FundraiserStatus.LIVE
        shown = await client.get(f"/api/v1/public/campaigns/{campaign['slug']}/fundraisers/{page.slug}")
        assert shown.status_code == 200, shown.text
        body = shown.json()
        assert body["title"] == "I run 10 km for warm coats"
        assert body["name"] == "Anna de Vries"
        assert "<strong>coat</strong>" in body["story_html"]
        assert body["goal"] == {"amount_minor": 50_000, "currency": "eur"}
        assert body["raised"] == {"amount_minor": 0, "currency": "eur"}
        assert body["donors"] == 0 and body["milestones"] == []
        assert body["team"]["name"] == "Team Tulip"
        assert body["share_url"].startswith("http://testserver/s/")
        assert body["url"] == f"http://testserver/c/{campaign['slug']}/f/{page.slug}"
        assert "email" not in body
        team = await client.get(f"/api/v1/public/campaigns/{campaign['slug']}/teams/{body['team']['slug']}")
        assert team.status_code == 200, team.text
        assert [m["slug"] for m in team.json()["members"]] == [page.slug]

    async def test_a_confirmation_link_works_once(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        await start(client, campaign["slug"], email="once@example.org")
        [(_, _, text)] = await mail_to(smtp_server, database, "once@example.org")
        token = token_in(text)

        assert await confirm(database, token) is not None
        assert await confirm(database, token) is None
        assert await confirm(database, "not-a-token") is None
        async with database.transaction() as session:
            digests = (await session.scalars(sa.select(FundraiserLink.token_digest))).all()
        assert token not in digests  # only the hash is kept

    async def test_the_answer_is_the_same_for_an_address_that_has_pages_already(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        await live_page(client, database, smtp_server, campaign["slug"], email="known@example.org")

        known = await start(client, campaign["slug"], email="known@example.org", title="Second run")
        fresh = await start(client, campaign["slug"], email="fresh@example.org", title="Second run")

        assert (known.status_code, known.json()) == (fresh.status_code, fresh.json())

    async def test_a_campaign_without_peer_to_peer_refuses_an_impersonating_page(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)

        response = await start(client, campaign["slug"], title="Official fundraiser")

        assert response.status_code == 409
        assert response.json()["error"] == "fundraisers_disabled"
        assert await _pages(database) == []

    async def test_an_unknown_campaign_is_refused_like_one_without_peer_to_peer(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await start(client, "no-such-campaign")

        assert response.status_code == 409
        assert response.json()["error"] == "fundraisers_disabled"

    async def test_a_title_that_is_only_the_organisations_or_campaigns_name_is_refused(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await p2p_campaign(client, database, title="Winter Coats")
        org_name = campaign["_org"]  # the sign-up's name carries a suffix; read it back
        nonprofit = (await client.get("/api/v1/nonprofits/me", headers=org_name.headers)).json()

        by_org = await start(client, campaign["slug"], title=f"  {nonprofit['name'].upper()}!! ")
        by_campaign = await start(client, campaign["slug"], title="winter-coats")
        fine = await start(client, campaign["slug"], title=f"Running for {nonprofit['name']}")

        assert by_org.status_code == 422 and "title" in by_org.json()["fields"]
        assert by_campaign.status_code == 422 and "title" in by_campaign.json()["fields"]
        assert fine.status_code == 202

    async def test_bad_input_is_a_clear_422_and_writes_nothing(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await p2p_campaign(client, database)

        bad_email = await start(client, campaign["slug"], email="not an address")
        bad_goal = await start(client, campaign["slug"], goal_minor=0)
        bad_team = await start(client, campaign["slug"], team={"join": "a", "create": "b"})
        no_team = await start(client, campaign["slug"], team={"join": "nobody"})

        assert bad_email.status_code == 422 and "email" in bad_email.json()["fields"]
        assert bad_goal.status_code == 422
        assert bad_team.status_code == 422
        assert no_team.status_code == 404 and no_team.json()["error"] == "team_not_found"
        assert await _pages(database) == []

    async def test_creation_is_rate_limited_per_email(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await p2p_campaign(client, database)
        codes = []
        for n in range(4):
            # A new browser each time: the email's own limit is what refuses the fourth.
            response = await client.post(
                f"/api/v1/public/campaigns/{campaign['slug']}/fundraisers",
                json={"name": "E", "email": "eager@example.org", "title": f"Run number {n}"},
                headers={"Cookie": f"gl_device=device-{n}"},
            )
            codes.append(response.status_code)

        assert codes == [202, 202, 202, 429]

    async def test_the_keyword_screen_holds_a_page_for_the_nonprofit(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)

        page = await live_page(
            client,
            database,
            smtp_server,
            campaign["slug"],
            story="Please send money to my western union account",
        )

        assert page.status is FundraiserStatus.PENDING_APPROVAL
        assert {f["term"] for f in page.screen_flags} >= {"western union"}
        shown = await client.get(f"/api/v1/public/campaigns/{campaign['slug']}/fundraisers/{page.slug}")
        assert shown.status_code == 404

    async def test_the_confirmation_email_is_in_the_creators_language(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)

        await start(client, campaign["slug"], email="nl@example.org", language="nl")

        [(subject, language, text)] = await mail_to(smtp_server, database, "nl@example.org")
        assert language == "nl"
        assert "Bevestig" in subject
        assert "/fundraisers/confirm/" in text


class TestApproval:
    async def test_a_campaign_that_asks_for_approval_keeps_the_page_until_a_member_approves(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database, need_approval=True)
        page = await live_page(client, database, smtp_server, campaign["slug"], email="wait@example.org")
        assert page.status is FundraiserStatus.PENDING_APPROVAL
        url = f"/api/v1/public/campaigns/{campaign['slug']}/fundraisers/{page.slug}"
        assert (await client.get(url)).status_code == 404

        actor = owner_actor(campaign)
        async with database.transaction() as session:
            approved = await fundraising.approve(session, actor=actor, fundraiser_id=page.id)

        assert approved.status is FundraiserStatus.LIVE and approved.approved_at is not None
        assert (await client.get(url)).status_code == 200
        subjects = [s for s, _, _ in await mail_to(smtp_server, database, "wait@example.org")]
        assert "Your fundraiser page is live" in subjects
