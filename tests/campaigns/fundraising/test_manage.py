"""A fundraiser manages their page without a password: a sign-in link by email, a session, edits (#15)."""

from __future__ import annotations

import io

import httpx
import pytest
import sqlalchemy as sa
from PIL import Image

from campaigns.campaign.cover import prepare_cover
from campaigns.fundraising import service as fundraising
from campaigns.fundraising.errors import FundraiserNotFound
from campaigns.fundraising.models import FundraiserSession, FundraiserStatus
from service.db import Database
from service.errors import ValidationFailed
from service.media import MediaStore
from service.settings import Settings
from tests.campaigns.fundraising.helpers import SIGN_IN_LINK, live_page, mail_to, p2p_campaign, token_in
from tests.mail_server import SmtpServer


async def _signed_in(
    database: Database, smtp_server: SmtpServer, slug: str, email: str
) -> fundraising.SignedIn:
    async with database.transaction() as session:
        await fundraising.request_manage_link(session, campaign_slug=slug, email=email, language="en")
    mails = [m for m in await mail_to(smtp_server, database, email) if "sign-in" in m[0]]
    token = token_in(mails[-1][2], SIGN_IN_LINK)
    async with database.transaction() as session:
        signed = await fundraising.sign_in(session, token=token)
    assert signed is not None
    return signed


class TestSignIn:
    async def test_every_address_gets_a_link_and_it_works_once(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        page = await live_page(client, database, smtp_server, campaign["slug"], email="owner@example.org")

        for address in ("owner@example.org", "nobody@example.org"):
            async with database.transaction() as session:
                await fundraising.request_manage_link(
                    session, campaign_slug=campaign["slug"], email=address, language="en"
                )
        owner_mail = [
            m for m in await mail_to(smtp_server, database, "owner@example.org") if "sign-in" in m[0]
        ]
        stranger_mail = await mail_to(smtp_server, database, "nobody@example.org")
        assert len(owner_mail) == 1 and len(stranger_mail) == 1
        assert owner_mail[0][0] == stranger_mail[0][0]  # the same email either way: no enumeration

        token = token_in(owner_mail[0][2], SIGN_IN_LINK)
        async with database.transaction() as session:
            assert await fundraising.sign_in_link_usable(session, token=token, now=session.now())
            signed = await fundraising.sign_in(session, token=token)
            again = await fundraising.sign_in(session, token=token)
        assert signed is not None and again is None
        async with database.transaction() as session:
            owner = await fundraising.session_owner(session, token=signed.token, now=session.now())
            assert owner is not None
            assert [p.id for p in await fundraising.my_pages(session, owner=owner)] == [page.id]
            digests = (await session.scalars(sa.select(FundraiserSession.token_digest))).all()
        assert signed.token not in digests
        async with database.transaction() as session:
            await fundraising.sign_out(session, token=signed.token)
        async with database.transaction() as session:
            assert await fundraising.session_owner(session, token=signed.token, now=session.now()) is None


class TestEdits:
    async def test_the_owner_edits_title_story_goal_and_team_and_new_flagged_words_wait_for_the_nonprofit(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        page = await live_page(client, database, smtp_server, campaign["slug"], email="ed@example.org")
        signed = await _signed_in(database, smtp_server, campaign["slug"], "ed@example.org")

        async with database.transaction() as session:
            edited = await fundraising.update_page(
                session,
                owner=signed.owner,
                fundraiser_slug=page.slug,
                changes=fundraising.PageChanges(
                    title="Now 20 km",
                    story_markdown="_Twice_ as far",
                    goal_minor=90_000,
                    team=fundraising.TeamChoice(create_name="Runners"),
                ),
            )
        assert (edited.title, edited.goal_minor, edited.status) == (
            "Now 20 km",
            90_000,
            FundraiserStatus.LIVE,
        )
        assert "<em>Twice</em>" in edited.story_html and edited.team_id is not None
        with pytest.raises(ValidationFailed):
            async with database.transaction() as session:
                await fundraising.update_page(
                    session,
                    owner=signed.owner,
                    fundraiser_slug=page.slug,
                    changes=fundraising.PageChanges(title=campaign["title"]),
                )
        async with database.transaction() as session:
            flagged = await fundraising.update_page(
                session,
                owner=signed.owner,
                fundraiser_slug=page.slug,
                changes=fundraising.PageChanges(story_markdown="pay me by western union"),
            )
        assert flagged.status is FundraiserStatus.PENDING_APPROVAL

    async def test_a_session_opens_only_its_own_address_pages(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        theirs = await live_page(client, database, smtp_server, campaign["slug"], email="them@example.org")
        signed = await _signed_in(database, smtp_server, campaign["slug"], "me@example.org")

        with pytest.raises(FundraiserNotFound):
            async with database.transaction() as session:
                await fundraising.update_page(
                    session,
                    owner=signed.owner,
                    fundraiser_slug=theirs.slug,
                    changes=fundraising.PageChanges(title="Mine now"),
                )

    async def test_a_photo_is_kept_like_a_cover(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        page = await live_page(client, database, smtp_server, campaign["slug"], email="pic@example.org")
        signed = await _signed_in(database, smtp_server, campaign["slug"], "pic@example.org")
        buffer = io.BytesIO()
        Image.new("RGB", (900, 600), (200, 80, 40)).save(buffer, "PNG")
        prepared = prepare_cover(buffer.getvalue())
        store = MediaStore(settings.media_root)
        fundraising.store_photo(store, prepared)

        async with database.transaction() as session:
            await fundraising.set_photo(
                session,
                owner=signed.owner,
                store=store,
                fundraiser_slug=page.slug,
                prepared=prepared,
                alt="Me at the start line",
            )
        shown = (
            await client.get(f"/api/v1/public/campaigns/{campaign['slug']}/fundraisers/{page.slug}")
        ).json()

        assert shown["photo"]["alt"] == "Me at the start line"
        assert shown["photo"]["width"] == 900 and shown["photo"]["height"] == 600
        served = await client.get(shown["photo"]["src"].removeprefix("http://testserver"))
        assert served.status_code == 200 and served.headers["content-type"].startswith("image/jpeg")
