"""The embed in headless Chromium, on host pages served from other local origins: a site the
campaign lists frames the form and the donor pays in a new tab or on the page itself, then
finds the way back; any other site gets a clear message with the campaign link instead of a
broken frame (found before framing, and, where the host page cannot ask, by the frame's
missing ready ping); the button takes the host's colour, label and size and works from the
keyboard. Phone and desktop viewports; screenshots go to GOODLOOP_SCREENSHOTS_DIR (default
`.screenshots/`, never committed)."""

from __future__ import annotations

import asyncio
import html
import re
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from service.auth.admins import create_admin
from service.auth.models import AdminRole
from service.db import Database
from tests import builders, databases
from tests.browser.screenshots import screenshots_dir
from tests.campaigns.giving.sandboxed import sandbox_settings
from tests.live_server import free_port, serve, serve_asgi

T = TypeVar("T")
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
SCREENSHOTS = screenshots_dir()
REFUSED = "This donation form can't be shown on this site."


def run_async(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    # Playwright's sync API keeps an event loop running on this thread; use another one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, make()).result()


@dataclass(frozen=True)
class Goodloop:
    url: str
    database_url: str

    def live_campaign(self, *, origins: list[str]) -> str:
        async def admin() -> builders.AdminUser:
            db = Database.from_url(self.database_url)
            try:
                async with db.transaction() as session:
                    email = f"admin-{uuid.uuid4().hex[:8]}@goodloop.org"
                    created = await create_admin(session, email=email, role=AdminRole.SUPERADMIN)
                return builders.AdminUser(id=created.admin.id, email=created.admin.email, token=created.token)
            finally:
                await db.dispose()

        async def build(admin_user: builders.AdminUser) -> str:
            async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
                org = await builders.sign_up(client)
                await builders.verify(client, admin_user, org)
                campaign = await builders.live_campaign(
                    client, org, admin_user, allowed_embed_origins=origins, title="Warm coats for winter"
                )
                slug: str = campaign["slug"]
                return slug

        admin_user = run_async(admin)
        return run_async(lambda: build(admin_user))


@pytest.fixture
def goodloop(sqlite_template: Path, tmp_path: Path) -> Iterator[Goodloop]:
    database_url = databases.copy_sqlite_template(sqlite_template, tmp_path)
    port = free_port()
    with serve(sandbox_settings(database_url, tmp_path / "data", port), port=port, run_worker=True) as url:
        yield Goodloop(url=url, database_url=database_url)


def host_app(base: str, slug: str, *, button: str = "", csp: str | None = None) -> Starlette:
    """Harbor Relief's own page: a paragraph, embed.js and one donate link."""
    link = button or f'<a href="{base}/c/{slug}" data-goodloop="{html.escape(slug)}">Donate</a>'

    async def page(request: Request) -> HTMLResponse:
        body = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>Harbor Relief</title><script src='{base}/embed.js' defer></script></head>"
            "<body><h1>Harbor Relief</h1><p>Winter is coming to the harbour.</p>"
            f"<p>{link}</p><p><a href='#after' id='after'>After the button</a></p></body></html>"
        )
        headers = {"Content-Security-Policy": csp} if csp else None
        return HTMLResponse(body, headers=headers)

    return Starlette(routes=[Route("/give", page)])


def context(browser: Browser, viewport: ViewportSize) -> BrowserContext:
    phone = viewport == PHONE
    made = browser.new_context(
        viewport=viewport, device_scale_factor=2 if phone else 1, is_mobile=phone, has_touch=phone
    )
    made.set_default_timeout(15_000)
    return made


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"embed-{name}.png"))


VIEWPORTS = [pytest.param(PHONE, id="phone"), pytest.param(DESKTOP, id="desktop")]


@pytest.mark.browser
class TestAllowedSite:
    @pytest.mark.parametrize("viewport", VIEWPORTS)
    def test_the_form_loads_and_paying_in_a_new_tab_opens_checkout_there(
        self, browser: Browser, goodloop: Goodloop, viewport: ViewportSize
    ) -> None:
        port = free_port()
        slug = goodloop.live_campaign(origins=[f"http://127.0.0.1:{port}"])
        ctx = context(browser, viewport)
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        name = "phone" if viewport == PHONE else "desktop"

        with serve_asgi(host_app(goodloop.url, slug), port=port) as host:
            page.goto(host + "/give")
            page.get_by_role("button", name="Donate").click()
            dialog = page.get_by_role("dialog", name="Donate")
            expect(dialog).to_have_attribute("aria-modal", "true")
            frame = page.frame_locator("[data-goodloop-modal] iframe")
            expect(frame.get_by_role("heading", name="Warm coats for winter")).to_be_visible()
            sandbox = page.locator("[data-goodloop-modal] iframe").get_attribute("sandbox") or ""
            assert {"allow-popups", "allow-top-navigation-by-user-activation", "allow-forms"} <= set(
                sandbox.split()
            )
            # Phones pay on the page itself by default, desktops in a new tab (embed-frame.js).
            default = frame.get_by_label("Pay on this page" if viewport == PHONE else "Pay in a new tab")
            expect(default).to_be_checked()
            shot(page, f"allowed-{name}")
            frame.get_by_role("button", name="Donate").scroll_into_view_if_needed()
            shot(page, f"where-to-pay-{name}")

            frame.get_by_label("Pay in a new tab").check()
            frame.get_by_label("€25.00").check()
            with ctx.expect_page() as opened:
                frame.get_by_role("button", name="Donate").click()
            checkout = opened.value
            expect(checkout).to_have_url(re.compile(re.escape(goodloop.url) + r"/_sandbox/stripe/checkout/"))
            expect(frame.get_by_role("heading", name="Finish in the new tab")).to_be_visible()
            expect(frame.locator("#donate-form")).to_be_hidden()
            assert page.url == host + "/give"  # the host page stayed where it was
            shot(page, f"new-tab-{name}")

            frame.get_by_role("button", name="Change my gift").click()
            expect(frame.get_by_role("button", name="Donate")).to_be_visible()
            # The choice is remembered for the browser session (also on a phone, whose default differs).
            page.get_by_role("button", name="Close").click()
            page.get_by_role("button", name="Donate").click()
            expect(frame.get_by_label("Pay in a new tab")).to_be_checked()
        assert errors == []
        ctx.close()

    def test_paying_on_the_page_comes_back_to_it_after_paying(
        self, browser: Browser, goodloop: Goodloop
    ) -> None:
        port = free_port()
        slug = goodloop.live_campaign(origins=[f"http://127.0.0.1:{port}"])
        ctx = context(browser, PHONE)
        page = ctx.new_page()

        with serve_asgi(host_app(goodloop.url, slug), port=port) as host:
            page.goto(host + "/give?campaign=coats#story")
            page.get_by_role("button", name="Donate").click()
            frame = page.frame_locator("[data-goodloop-modal] iframe")
            expect(frame.get_by_label("Pay on this page")).to_be_checked()
            frame.get_by_label("€10.00").check()
            frame.get_by_role("button", name="Donate").click()
            # The whole window goes to Checkout: Stripe's page never runs inside a frame.
            expect(page).to_have_url(re.compile(re.escape(goodloop.url) + r"/_sandbox/stripe/checkout/"))
            page.get_by_role("button", name="Pay", exact=True).click()
            expect(page.get_by_role("heading", name="Thank you!")).to_be_visible(timeout=30_000)
            back = page.get_by_role("link", name="Back to 127.0.0.1")
            expect(back).to_have_attribute("href", host + "/give?campaign=coats")
            shot(page, "thanks-back-phone")
            back.click()
            expect(page).to_have_url(host + "/give?campaign=coats")
        ctx.close()

    def test_an_address_on_another_origin_never_comes_back(
        self, browser: Browser, goodloop: Goodloop
    ) -> None:
        port = free_port()
        slug = goodloop.live_campaign(origins=[f"http://127.0.0.1:{port}"])
        ctx = context(browser, DESKTOP)
        page = ctx.new_page()
        elsewhere = f"http://localhost:{port}/give"  # same port, another origin

        page.goto(f"{goodloop.url}/embed/{slug}?return_to={elsewhere}")
        page.get_by_label("€10.00").check()
        page.get_by_role("button", name="Donate").click()
        page.get_by_role("button", name="Pay", exact=True).click()
        expect(page.get_by_role("heading", name="Thank you!")).to_be_visible(timeout=30_000)

        expect(page.locator("#return-link")).to_have_count(0)
        assert "return_to" not in page.url
        ctx.close()


@pytest.mark.browser
class TestRefusedSite:
    @pytest.mark.parametrize("viewport", VIEWPORTS)
    def test_a_site_the_campaign_does_not_list_gets_the_message_and_no_frame(
        self, browser: Browser, goodloop: Goodloop, viewport: ViewportSize
    ) -> None:
        slug = goodloop.live_campaign(origins=["https://harbor-relief.org"])
        ctx = context(browser, viewport)
        page = ctx.new_page()
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))

        with serve_asgi(host_app(goodloop.url, slug)) as host:
            page.goto(host + "/give")
            page.get_by_role("button", name="Donate").click()
            message = page.get_by_role("alert")
            expect(message).to_contain_text(REFUSED)
            link = message.get_by_role("link", name="Give on the campaign page instead")
            # In the host page's language (its <html lang="en">), as the form would have been.
            expect(link).to_have_attribute("href", f"{goodloop.url}/c/{slug}?lang=en")
            expect(link).to_have_attribute("target", "_blank")
            expect(page.locator("[data-goodloop-modal] iframe")).to_have_count(0)
            shot(page, "refused-" + ("phone" if viewport == PHONE else "desktop"))
            with ctx.expect_page() as opened:
                link.click()
            expect(opened.value).to_have_url(f"{goodloop.url}/c/{slug}?lang=en")
        assert not any("frame-ancestors" in text for text in console), console
        ctx.close()

    def test_when_the_host_cannot_ask_first_the_missing_ready_ping_tells(
        self, browser: Browser, goodloop: Goodloop
    ) -> None:
        slug = goodloop.live_campaign(origins=["https://harbor-relief.org"])
        ctx = context(browser, DESKTOP)
        page = ctx.new_page()
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        # The host's own policy forbids fetch to other origins, so embed.js frames the form
        # blind; the browser refuses the frame and no goodloop:ready ever arrives.
        csp = f"default-src 'self'; script-src {goodloop.url}; frame-src {goodloop.url}; connect-src 'none'"

        with serve_asgi(host_app(goodloop.url, slug, csp=csp)) as host:
            page.goto(host + "/give")
            page.get_by_role("button", name="Donate").click()
            expect(page.locator("[data-goodloop-modal] iframe")).to_have_count(1)
            expect(page.get_by_role("alert")).to_contain_text(REFUSED, timeout=15_000)
            expect(page.locator("[data-goodloop-modal] iframe")).to_be_hidden()
            expect(page.get_by_role("link", name="Give on the campaign page instead")).to_be_visible()
        assert any("frame-ancestors" in text for text in console), console
        ctx.close()


@pytest.mark.browser
class TestButton:
    @pytest.mark.parametrize(
        ("color", "background", "text"),
        [
            ("#ffd400", "rgb(255, 212, 0)", "rgb(17, 24, 39)"),  # light: dark text
            ("#123", "rgb(17, 34, 51)", "rgb(255, 255, 255)"),  # dark: white text
            ("red;background:url(x)", "rgb(11, 122, 90)", "rgb(255, 255, 255)"),  # refused: the default
        ],
    )
    def test_takes_the_sites_colour_label_and_size(
        self, browser: Browser, goodloop: Goodloop, color: str, background: str, text: str
    ) -> None:
        slug = goodloop.live_campaign(origins=[])
        button = (
            f'<a href="{goodloop.url}/c/{slug}" data-goodloop="{slug}" '
            f'data-goodloop-color="{html.escape(color)}" '
            'data-goodloop-label="Give a coat" data-goodloop-size="large">Donate</a>'
        )
        ctx = context(browser, DESKTOP)
        page = ctx.new_page()

        with serve_asgi(host_app(goodloop.url, slug, button=button)) as host:
            page.goto(host + "/give")
            themed = page.get_by_role("button", name="Give a coat")
            expect(themed).to_have_css("background-color", background)
            expect(themed).to_have_css("color", text)
            expect(themed).to_have_css("font-size", "19px")
            expect(themed).to_have_attribute("href", f"{goodloop.url}/c/{slug}")
            box = themed.bounding_box()
            assert box is not None and box["height"] >= 44
            if color == "#ffd400":
                shot(page, "button-yellow")
        ctx.close()

    def test_keyboard_opens_closes_and_returns_focus(self, browser: Browser, goodloop: Goodloop) -> None:
        port = free_port()
        slug = goodloop.live_campaign(origins=[f"http://127.0.0.1:{port}"])
        ctx = context(browser, DESKTOP)
        page = ctx.new_page()

        with serve_asgi(host_app(goodloop.url, slug), port=port) as host:
            page.goto(host + "/give")
            button = page.get_by_role("button", name="Donate")
            expect(button).to_have_css("background-color", "rgb(11, 122, 90)")
            page.keyboard.press("Tab")
            expect(button).to_be_focused()
            expect(button).to_have_css("outline-style", "solid")  # the focus ring shows
            shot(page, "button-focus")
            page.keyboard.press(" ")
            dialog = page.get_by_role("dialog", name="Donate")
            expect(dialog).to_be_visible()
            expect(page.get_by_role("button", name="Close")).to_be_focused()
            frame = page.frame_locator("[data-goodloop-modal] iframe")
            expect(frame.get_by_role("button", name="Donate")).to_be_visible()
            page.keyboard.press("Shift+Tab")  # wraps inside the dialog, never back to the page
            expect(page.get_by_role("link", name="Open the donation page")).to_be_focused()
            page.keyboard.press("Escape")
            expect(dialog).to_have_count(0)
            expect(button).to_be_focused()

            page.keyboard.press("Enter")
            expect(dialog).to_be_visible()
            # The frame's script listens for Escape once it said it is ready (aria-busy lifts).
            expect(dialog).to_have_attribute("aria-busy", "false")
            frame.get_by_label("Other amount").focus()  # Escape inside the frame closes it too
            page.keyboard.press("Escape")
            expect(dialog).to_have_count(0)
            expect(button).to_be_focused()
        ctx.close()
