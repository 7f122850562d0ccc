"""The account side of the dashboard in Dutch, in a real Chromium: screenshots of the sign-in
page, the overview, members and webhooks at a phone's size (390x844) and a desktop's
(1280x900) for a person to look at (GOODLOOP_SCREENSHOTS_DIR or `.screenshots/`), and what
Dutch's longer words must not do: push a page sideways. The nl | English switch works from the
keyboard alone."""

from __future__ import annotations

import uuid

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from tests.browser.conftest import LiveServer
from tests.browser.screenshots import screenshots_dir

PASSWORD = "correct horse battery"
SIZES: dict[str, ViewportSize] = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1280, "height": 900},
}


def owner_with_an_endpoint_and_an_invite(server: LiveServer) -> str:
    """A Dutch organisation whose pages have something on them; returns the owner's email."""
    email = f"eigenaar-{uuid.uuid4().hex[:8]}@voedselbank-haarlem.nl"
    signed_up = httpx.post(
        server.url("/api/v1/nonprofits"),
        json={
            "name": "Stichting Voedselbank Haarlem en Omstreken",
            "contact_email": email,
            "password": PASSWORD,
            "country": "NL",
            "registration_number": "KvK 41224359",
            "website": "https://voedselbank-haarlem.nl",
        },
    )
    assert signed_up.status_code == 201, signed_up.text
    headers = {"Authorization": f"Bearer {signed_up.json()['api_key']}"}
    invited = httpx.post(
        server.url("/api/v1/members/invites"),
        json={"email": "vrijwilligerscoordinator@voedselbank-haarlem.nl", "role": "editor"},
        headers=headers,
    )
    assert invited.status_code == 201, invited.text
    return email


def sign_in(page: Page, server: LiveServer, email: str) -> None:
    page.goto(server.url("/dashboard/login?lang=nl"))
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    expect(page.get_by_role("heading", name="Betalingen")).to_be_visible()


def add_endpoint(page: Page, server: LiveServer) -> None:
    page.goto(server.url("/dashboard/webhooks"))
    page.get_by_label("URL van het endpoint").fill("https://crm.voedselbank-haarlem.nl/goodloop/webhooks")
    page.get_by_label("Omschrijving (optioneel)").fill("Relatiebeheer")
    page.get_by_role("button", name="Endpoint toevoegen").click()
    expect(page.get_by_text("Kopieer het ondertekeningsgeheim van dit endpoint nu.")).to_be_visible()


def new_context(browser: Browser, size: str) -> BrowserContext:
    return browser.new_context(viewport=SIZES[size], device_scale_factor=1, locale="nl-NL")


def assert_not_sideways(page: Page, where: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"{where} scrolls sideways: {width}px wide in a {viewport}px window"


@pytest.mark.browser
class TestTheDashboardInDutch:
    def test_sign_in_overview_members_and_webhooks_at_both_sizes(
        self, browser: Browser, live_server: LiveServer
    ) -> None:
        email = owner_with_an_endpoint_and_an_invite(live_server)
        folder = screenshots_dir()
        errors: list[str] = []
        for size in SIZES:
            context = new_context(browser, size)
            page = context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(live_server.url("/dashboard/login?lang=nl"))
            assert page.locator("html").get_attribute("lang") == "nl"
            assert_not_sideways(page, f"login ({size})")
            page.screenshot(path=str(folder / f"dashboard-nl-login-{size}.png"), full_page=True)
            sign_in(page, live_server, email)
            if size == "phone":
                add_endpoint(page, live_server)
            for name, path, heading in [
                ("home", "/dashboard", "Betalingen"),
                ("members", "/dashboard/members", "Openstaande uitnodigingen"),
                ("webhooks", "/dashboard/webhooks", "Een endpoint toevoegen"),
            ]:
                page.goto(live_server.url(path))
                expect(page.get_by_role("heading", name=heading)).to_be_visible()
                assert page.locator("html").get_attribute("lang") == "nl"
                assert_not_sideways(page, f"{name} ({size})")
                page.screenshot(path=str(folder / f"dashboard-nl-{name}-{size}.png"), full_page=True)
            context.close()
        assert errors == []

    def test_the_language_switch_works_from_the_keyboard(
        self, browser: Browser, live_server: LiveServer
    ) -> None:
        email = owner_with_an_endpoint_and_an_invite(live_server)
        context = new_context(browser, "phone")
        page = context.new_page()
        sign_in(page, live_server, email)
        english = page.get_by_role("link", name="English", exact=True)
        for _ in range(40):
            page.keyboard.press("Tab")
            if english.evaluate("link => link === document.activeElement"):
                break
        else:
            pytest.fail("Tab never reached the English link")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Payments")).to_be_visible()
        assert page.locator("html").get_attribute("lang") == "en"
        # Remembered: the next page without ?lang= is English too.
        page.goto(live_server.url("/dashboard/members"))
        expect(page.get_by_role("heading", name="Members", exact=True)).to_be_visible()
        context.close()
