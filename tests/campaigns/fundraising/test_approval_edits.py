"""What the nonprofit approved stays what is public (#15 review, part A): on a campaign that
approves each page, a live page whose title, story or photo changes waits for approval again;
goal and team change at once; without approval, edits publish at once. Photo uploads are rate
limited per page and per network. On SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import html
import io
import ipaddress
import re
from typing import Any

import httpx
import pytest
from PIL import Image

from campaigns.campaign.cover import prepare_cover
from campaigns.fundraising import limits
from campaigns.fundraising import service as fundraising
from campaigns.fundraising.models import Fundraiser, FundraiserStatus
from service.db import Database
from service.media import MediaStore
from service.settings import Settings
from tests.campaigns.fundraising.helpers import (
    SIGN_IN_LINK,
    live_page,
    mail_to,
    p2p_campaign,
    token_in,
)
from tests.mail_server import SmtpServer

PROXY_PEER = "203.0.113.7"
"""The test client's own address: trusted as a proxy here, so X-Forwarded-For picks the network."""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, trusted_proxies=(ipaddress.ip_network(f"{PROXY_PEER}/32"),))


async def _signed_in(
    database: Database, smtp_server: SmtpServer, slug: str, email: str
) -> fundraising.SignedIn:
    async with database.transaction() as session:
        await fundraising.request_manage_link(session, campaign_slug=slug, email=email, language="en")
    mails = [m for m in await mail_to(smtp_server, database, email) if "sign-in" in m[0]]
    async with database.transaction() as session:
        signed = await fundraising.sign_in(session, token=token_in(mails[-1][2], SIGN_IN_LINK))
    assert signed is not None
    return signed


async def _approved_page(
    client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, email: str
) -> tuple[dict[str, Any], Fundraiser, fundraising.SignedIn]:
    campaign = await p2p_campaign(client, database, need_approval=True)
    page = await live_page(client, database, smtp_server, campaign["slug"], email=email)
    approved = await client.post(f"/api/v1/fundraisers/{page.id}/approve", headers=campaign["_org"].headers)
    assert approved.status_code == 200 and approved.json()["status"] == "live"
    return campaign, page, await _signed_in(database, smtp_server, campaign["slug"], email)


async def _edit(
    database: Database, signed: fundraising.SignedIn, page: Fundraiser, **changes: Any
) -> Fundraiser:
    async with database.transaction() as session:
        return await fundraising.update_page(
            session,
            owner=signed.owner,
            fundraiser_slug=page.slug,
            changes=fundraising.PageChanges(**changes),
        )


def _png(colour: tuple[int, int, int] = (200, 80, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (900, 600), colour).save(buffer, "PNG")
    return buffer.getvalue()


class TestEditsOfAnApprovedPage:
    @pytest.mark.parametrize(
        "changes",
        [{"title": "Now I run 20 km"}, {"story_markdown": "A whole new story"}],
        ids=["title", "story"],
    )
    async def test_new_words_take_the_page_offline_until_the_nonprofit_approves_them(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, changes: dict[str, str]
    ) -> None:
        campaign, page, signed = await _approved_page(client, database, smtp_server, "words@example.org")
        public = f"/api/v1/public/campaigns/{campaign['slug']}/fundraisers/{page.slug}"

        edited = await _edit(database, signed, page, **changes)

        assert edited.status is FundraiserStatus.PENDING_APPROVAL
        assert (await client.get(public)).status_code == 404
        listed = await client.get(
            f"/api/v1/campaigns/{campaign['id']}/fundraisers",
            params={"status": "pending_approval"},
            headers=campaign["_org"].headers,
        )
        assert [p["id"] for p in listed.json()["data"]] == [str(page.id)]
        await client.post(f"/api/v1/fundraisers/{page.id}/approve", headers=campaign["_org"].headers)
        shown = (await client.get(public)).json()
        assert shown["title"] == edited.title

    async def test_goal_and_leaving_a_team_change_at_once_and_the_same_words_keep_it_live(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        # A new team's name waits for approval like a title (test_approval_revisions.TestNewTeams).
        campaign, page, signed = await _approved_page(client, database, smtp_server, "goal@example.org")

        edited = await _edit(
            database,
            signed,
            page,
            title=page.title,
            story_markdown=page.story_markdown,
            goal_minor=90_000,
            leave_team=True,
        )

        assert edited.status is FundraiserStatus.LIVE
        shown = await client.get(f"/api/v1/public/campaigns/{campaign['slug']}/fundraisers/{page.slug}")
        assert shown.status_code == 200 and shown.json()["goal"]["amount_minor"] == 90_000

    async def test_a_new_photo_takes_the_page_offline_and_removing_it_does_not(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        campaign, page, signed = await _approved_page(client, database, smtp_server, "photo@example.org")
        store = MediaStore(settings.media_root)
        prepared = prepare_cover(_png())
        fundraising.store_photo(store, prepared)

        async with database.transaction() as session:
            with_photo = await fundraising.set_photo(
                session,
                owner=signed.owner,
                store=store,
                fundraiser_slug=page.slug,
                prepared=prepared,
                alt="Me",
            )
        assert with_photo.status is FundraiserStatus.PENDING_APPROVAL
        await client.post(f"/api/v1/fundraisers/{page.id}/approve", headers=campaign["_org"].headers)
        async with database.transaction() as session:
            without = await fundraising.remove_photo(
                session, owner=signed.owner, store=store, fundraiser_slug=page.slug
            )
        assert without.status is FundraiserStatus.LIVE and without.photo_key is None

    async def test_without_approval_edits_and_photos_publish_at_once(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        page = await live_page(client, database, smtp_server, campaign["slug"], email="free@example.org")
        signed = await _signed_in(database, smtp_server, campaign["slug"], "free@example.org")
        store = MediaStore(settings.media_root)
        prepared = prepare_cover(_png())
        fundraising.store_photo(store, prepared)

        edited = await _edit(database, signed, page, title="Now 20 km", story_markdown="Twice as far")
        async with database.transaction() as session:
            pictured = await fundraising.set_photo(
                session,
                owner=signed.owner,
                store=store,
                fundraiser_slug=page.slug,
                prepared=prepared,
                alt="Me",
            )

        assert edited.status is FundraiserStatus.LIVE and pictured.status is FundraiserStatus.LIVE
        shown = await client.get(f"/api/v1/public/campaigns/{campaign['slug']}/fundraisers/{page.slug}")
        assert shown.json()["title"] == "Now 20 km"

    async def test_flagged_words_wait_even_without_approval_and_a_page_never_approved_stays_waiting(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        free = await p2p_campaign(client, database)
        page = await live_page(client, database, smtp_server, free["slug"], email="flag@example.org")
        signed = await _signed_in(database, smtp_server, free["slug"], "flag@example.org")
        strict = await p2p_campaign(client, database, need_approval=True)
        waiting = await live_page(client, database, smtp_server, strict["slug"], email="wait@example.org")
        waiting_owner = await _signed_in(database, smtp_server, strict["slug"], "wait@example.org")

        flagged = await _edit(database, signed, page, story_markdown="pay me by western union")
        still = await _edit(database, waiting_owner, waiting, title="A better title")

        assert flagged.status is FundraiserStatus.PENDING_APPROVAL
        assert still.status is FundraiserStatus.PENDING_APPROVAL and still.title == "A better title"


def _token(page: str, name: str = "csrf_token") -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert match is not None, f"no {name} on the page"
    return html.unescape(match.group(1))


class TestTheEditorPage:
    async def _sign_in_browser(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, slug: str, email: str
    ) -> str:
        ask = await client.get(f"/c/{slug}/fundraisers/manage?lang=en")
        await client.post(
            f"/c/{slug}/fundraisers/manage/link?lang=en",
            data={"csrf_token": _token(ask.text), "email": email},
        )
        [*_, (_, _, text)] = [m for m in await mail_to(smtp_server, database, email) if "sign-in" in m[0]]
        link = SIGN_IN_LINK.search(text)
        assert link is not None
        path = httpx.URL(link.group(0)).path
        button = await client.get(path)
        signed = await client.post(path, data={"csrf_token": _token(button.text)})
        assert signed.status_code == 303, signed.text
        editor = await client.get(f"/c/{slug}/fundraisers/manage?lang=en")
        assert editor.status_code == 200
        return editor.text

    async def test_the_editor_says_changes_go_back_to_the_nonprofit(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign, _, _ = await _approved_page(client, database, smtp_server, "note@example.org")
        free = await p2p_campaign(client, database)
        await live_page(client, database, smtp_server, free["slug"], email="free-note@example.org")

        strict_editor = await self._sign_in_browser(
            client, database, smtp_server, campaign["slug"], "note@example.org"
        )
        free_editor = await self._sign_in_browser(
            client, database, smtp_server, free["slug"], "note@example.org"
        )

        assert 'id="manage-approval-note"' in strict_editor
        assert "goes offline until" in strict_editor
        assert 'id="manage-approval-note"' not in free_editor

    async def test_photo_uploads_are_limited_per_page_with_the_network_varied(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign, page, _ = await _approved_page(client, database, smtp_server, "many@example.org")
        slug = campaign["slug"]
        editor = await self._sign_in_browser(client, database, smtp_server, slug, "many@example.org")
        csrf = _token(editor)

        codes = []
        for n in range(limits.PHOTO_PER_PAGE.max_hits + 1):
            # Not an image: refused after it is counted, so no decoding is spent on the test.
            response = await client.post(
                f"/c/{slug}/fundraisers/manage/photo?lang=en",
                data={"csrf_token": csrf, "page": page.slug, "alt": "Me"},
                files={"image": ("photo.png", b"not an image", "image/png")},
                headers={"X-Forwarded-For": f"198.51.100.{n + 1}"},
            )
            codes.append(response.status_code)

        assert codes == [422] * limits.PHOTO_PER_PAGE.max_hits + [429]
        assert "Too many photos were uploaded" in response.text
        assert response.headers["Retry-After"]

    async def test_photo_uploads_are_limited_per_network_with_the_page_varied(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        slug = campaign["slug"]
        per_page = limits.PHOTO_PER_PAGE.max_hits
        owners = [f"class-{n}@example.org" for n in range(limits.PHOTO_PER_NETWORK.max_hits // per_page + 1)]
        pages = [await live_page(client, database, smtp_server, slug, email=owner) for owner in owners]

        codes = []
        for owner, page in zip(owners, pages, strict=True):
            # Each page stays within its own budget: only the network's can refuse.
            editor = await self._sign_in_browser(client, database, smtp_server, slug, owner)
            for _ in range(per_page):
                response = await client.post(
                    f"/c/{slug}/fundraisers/manage/photo?lang=en",
                    data={"csrf_token": _token(editor), "page": page.slug, "alt": "Me"},
                    files={"image": ("photo.png", b"not an image", "image/png")},
                    headers={"X-Forwarded-For": "198.51.100.99"},
                )
                codes.append(response.status_code)
                if response.status_code == 429:
                    break
            if codes[-1] == 429:
                break
        csrf = _token(editor)

        assert codes == [422] * limits.PHOTO_PER_NETWORK.max_hits + [429]
        elsewhere = await client.post(
            f"/c/{slug}/fundraisers/manage/photo?lang=en",
            data={"csrf_token": csrf, "page": pages[-1].slug, "alt": "Me"},
            files={"image": ("photo.png", b"not an image", "image/png")},
            headers={"X-Forwarded-For": "198.51.100.100"},
        )
        assert elsewhere.status_code == 422
