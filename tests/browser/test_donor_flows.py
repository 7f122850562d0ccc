"""The donor's path in headless Chromium: campaign page -> sandbox Checkout -> thank-you page that
flips to confirmed -> the donor's share link brings a friend whose gift is attributed; the embed
loads on an allowed site and is refused elsewhere."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, BrowserContext, Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from campaigns.donations.models import Donation
from service.auth.admins import create_admin
from service.auth.models import AdminRole
from service.db import Database
from tests import builders, databases
from tests.browser.conftest import PHONE
from tests.campaigns.giving.sandboxed import sandbox_settings
from tests.live_server import free_port, serve, serve_asgi

T = TypeVar("T")


def run_async(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    # Playwright's sync API keeps an event loop running on this thread; use another one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, make()).result()


@dataclass(frozen=True)
class Site:
    url: str
    database_url: str

    def donations(self) -> list[Donation]:
        async def load() -> list[Donation]:
            db = Database.from_url(self.database_url)
            try:
                async with db.transaction() as session:
                    return list(
                        (await session.scalars(sa.select(Donation).order_by(Donation.created_at))).all()
                    )
            finally:
                await db.dispose()

        return run_async(load)

    def live_campaign(self, *, origins: list[str]) -> str:
        async def admin() -> builders.AdminUser:
            db = Database.from_url(self.database_url)
            try:
                async with db.transaction() as session:
                    created = await create_admin(
                        session, email=f"admin-{uuid.uuid4().hex[:8]}@goodloop.org", role=AdminRole.SUPERADMIN
                    )
                return builders.AdminUser(id=created.admin.id, email=created.admin.email, token=created.token)
            finally:
                await db.dispose()

        async def build(admin_user: builders.AdminUser) -> str:
            async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
                org = await builders.sign_up(client)
                await builders.verify(client, admin_user, org)
                campaign = await builders.live_campaign(
                    client,
                    org,
                    admin_user,
                    allowed_embed_origins=origins,
                    story="Every child deserves a **warm** coat.",
                )
                slug: str = campaign["slug"]
                return slug

        admin_user = run_async(admin)
        return run_async(lambda: build(admin_user))


@pytest.fixture
def site(sqlite_template: Path, tmp_path: Path) -> Iterator[Site]:
    database_url = databases.copy_sqlite_template(sqlite_template, tmp_path)
    port = free_port()
    with serve(sandbox_settings(database_url, tmp_path / "data", port), port=port, run_worker=True) as url:
        yield Site(url=url, database_url=database_url)


def phone(browser: Browser) -> BrowserContext:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    return context


def give(page: Page, site: Site, slug: str, *, amount: str) -> None:
    """From the campaign page through the sandbox's Checkout page to the thank-you page."""
    expect(page.locator("#story strong")).to_have_text("warm")
    expect(page.locator("#cover_fees")).not_to_be_checked()
    page.get_by_label(amount).check()
    page.get_by_role("button", name="Donate").click()
    expect(page).to_have_url(re.compile(re.escape(site.url) + r"/_sandbox/stripe/checkout/"))
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/c/{slug}/thanks\?donation="))


@pytest.mark.browser
class TestDonorJourney:
    def test_donor_gives_sees_confirmation_and_their_link_brings_an_attributed_friend(
        self, browser: Browser, site: Site
    ) -> None:
        slug = site.live_campaign(origins=[])
        donor = phone(browser)
        page = donor.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))

        page.goto(f"{site.url}/c/{slug}")
        give(page, site, slug, amount="€25.00")
        # The webhook confirms the payment a moment later; the page polls and flips by itself.
        expect(page.get_by_role("heading", name="Thank you!")).to_be_visible(timeout=30_000)
        expect(page.locator("#amount")).to_have_text("€25.00")
        expect(page.get_by_text("Friends who give through your link unlock bonus matching.")).to_be_visible()
        share_url = page.locator("#share-url").input_value()
        assert re.fullmatch(re.escape(site.url) + r"/s/[A-Za-z0-9_-]+", share_url)
        page.screenshot(path="/tmp/goodloop-thanks.png", full_page=True)

        friend = phone(browser)
        friend_page = friend.new_page()
        friend_page.goto(share_url)
        expect(friend_page).to_have_url(f"{site.url}/c/{slug}")
        give(friend_page, site, slug, amount="€10.00")

        first, second = site.donations()
        assert first.referral_link_id is None
        assert second.referral_link_id is not None
        assert second.amount_minor == 1000
        assert errors == []
        donor.close()
        friend.close()


def host_page(base: str, slug: str) -> Starlette:
    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(
            "<!doctype html><html><head><title>Harbor Relief</title>"
            f'<script src="{base}/embed.js" defer></script></head>'
            f'<body><h1>Our shop</h1><a href="{base}/c/{slug}" data-goodloop="{slug}">Donate</a>'
            f'<iframe id="direct" src="{base}/embed/{slug}" title="direct"></iframe></body></html>'
        )

    return Starlette(routes=[Route("/", page)])


@pytest.mark.browser
class TestEmbed:
    def test_embed_opens_on_an_allowed_site_and_is_refused_on_another(
        self, browser: Browser, site: Site
    ) -> None:
        allowed_port = free_port()
        allowed_origin = f"http://127.0.0.1:{allowed_port}"
        slug = site.live_campaign(origins=[allowed_origin])
        context = browser.new_context()
        context.set_default_timeout(15_000)
        page = context.new_page()
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))

        with serve_asgi(host_page(site.url, slug)) as other_origin:
            # The same host page from an origin the campaign did not list: the frame is refused.
            page.goto(other_origin)
            page.wait_for_load_state("load")
            page.wait_for_timeout(500)
            direct = page.frame_locator("#direct")
            expect(direct.locator("#donate-form")).to_have_count(0)
            assert any("frame-ancestors" in text for text in console), console

        console.clear()
        app = host_page(site.url, slug)
        with serve_on(app, allowed_port) as url:
            page.goto(url)
            expect(page.frame_locator("#direct").locator("#donate-form")).to_be_visible()
            page.get_by_role("button", name="Donate").click()
            modal = page.frame_locator("[data-goodloop-modal] iframe")
            expect(modal.get_by_role("button", name="Donate")).to_be_visible()
            expect(page.get_by_role("link", name="Open the donation page")).to_have_attribute(
                "href", f"{site.url}/c/{slug}"
            )
            assert not any("frame-ancestors" in text for text in console), console
        context.close()


def serve_on(app: Starlette, port: int) -> AbstractContextManager[str]:
    """A host page on a chosen port: the campaign lists this origin before the server starts."""
    return serve_asgi(app, port=port)
