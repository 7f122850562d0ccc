"""Issue #15's proof in headless Chromium: a supporter starts a fundraiser from the campaign
page (with a new team), confirms it from the sandbox mailbox, copies their share link; two
donors give through it in the Stripe sandbox; once the webhooks land, the fundraiser page, the
campaign page's leaderboard and the team page each count 2 donors. Screenshots of every page at
390x844 and 1280x900, in English and Dutch, go to the screenshots folder."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, ViewportSize, expect

from service.auth.admins import create_admin
from service.auth.models import AdminRole
from service.db import Database
from tests import builders, databases
from tests.browser.screenshots import screenshots_dir
from tests.browser.test_donor_flows import Site, run_async
from tests.browser.test_recurring_portal import open_mail
from tests.campaigns.giving.sandboxed import sandbox_settings
from tests.live_server import free_port, serve

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
SUPPORTER = "runner@example.org"
CONFIRM_EMAIL = re.compile("Confirm your fundraiser page")
SIGN_IN_EMAIL = re.compile("Your sign-in link for your fundraiser page")


@pytest.fixture
def site(sqlite_template: Path, tmp_path: Path) -> Iterator[Site]:
    database_url = databases.copy_sqlite_template(sqlite_template, tmp_path)
    port = free_port()
    with serve(sandbox_settings(database_url, tmp_path / "data", port), port=port, run_worker=True) as url:
        yield Site(url=url, database_url=database_url)


def peer_to_peer_campaign(site: Site) -> str:
    """A live campaign of a verified nonprofit with fundraisers turned on; its slug."""

    async def admin() -> builders.AdminUser:
        db = Database.from_url(site.database_url)
        try:
            async with db.transaction() as session:
                email = f"admin-{uuid.uuid4().hex[:8]}@goodloop.org"
                created = await create_admin(session, email=email, role=AdminRole.SUPERADMIN)
            return builders.AdminUser(id=created.admin.id, email=created.admin.email, token=created.token)
        finally:
            await db.dispose()

    async def build(admin_user: builders.AdminUser) -> str:
        async with httpx.AsyncClient(base_url=site.url, timeout=30) as client:
            org = await builders.sign_up(client)
            await builders.verify(client, admin_user, org)
            campaign = await builders.live_campaign(
                client,
                org,
                admin_user,
                allowed_embed_origins=[],
                story="Every child deserves a **warm** coat.",
                fundraisers_enabled=True,
            )
            slug: str = campaign["slug"]
            return slug

    admin_user = run_async(admin)
    return run_async(lambda: build(admin_user))


def context(browser: Browser, viewport: ViewportSize) -> BrowserContext:
    phone = viewport == PHONE
    made = browser.new_context(
        viewport=viewport, device_scale_factor=2 if phone else 1, is_mobile=phone, has_touch=phone
    )
    made.set_default_timeout(15_000)
    return made


def shoot(page: Page, name: str) -> None:
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.screenshot(path=str(screenshots_dir() / f"fundraiser-{name}-{width}.png"), full_page=True)


def until_donors(page: Page, locator: Locator, donors: int) -> None:
    """Reload until `locator` counts `donors` (pages are cached for a few seconds, and the
    webhooks land a moment after the donor saw the thank-you page)."""
    for _ in range(60):
        if locator.count() and locator.first.get_attribute("data-donors") == str(donors):
            return
        page.wait_for_timeout(500)
        page.reload()
    expect(locator.first).to_have_attribute("data-donors", str(donors))


def give_through(
    browser: Browser, site: Site, share_url: str, *, amount: str, email: str, card: str, slug: str
) -> None:
    """A donor in a browser of their own, with an address and a card of their own: another person."""
    donor = context(browser, PHONE)
    page = donor.new_page()
    page.goto(share_url + "?lang=en")
    page.get_by_label(amount).check()
    page.locator("#email").fill(email)
    page.get_by_role("button", name="Donate").click()
    expect(page).to_have_url(re.compile(re.escape(site.url) + r"/_sandbox/stripe/checkout/"))
    page.get_by_label("Card number").fill(card)
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/c/{slug}/thanks\?donation="))
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible(timeout=30_000)
    donor.close()


def start_fundraiser(page: Page, site: Site, slug: str) -> None:
    page.goto(f"{site.url}/c/{slug}?lang=en")
    page.get_by_role("link", name="Start a fundraiser").click()
    expect(page.get_by_role("heading", name="Start a fundraiser")).to_be_visible()
    page.get_by_role("button", name="Create my page").click()
    # Nothing typed: each field says what it needs, next to it.
    expect(page.locator("#name-error")).to_be_visible()
    expect(page.locator("#email-error")).to_be_visible()
    shoot(page, "start-errors")
    page.get_by_label("Your name").fill("Rosa Runner")
    page.get_by_label("Your email").fill(SUPPORTER)
    page.get_by_label("Title of your page").fill("I'm running 10 km for warm coats")
    page.get_by_label("Your story").fill("Every kilometre is a coat for a child this winter. **Join me!**")
    page.get_by_label("Your goal in EUR (optional)").fill("100")
    page.get_by_label("Start a new team").check()
    page.get_by_label("Name of the new team").fill("Harbour Runners")
    shoot(page, "start")
    page.get_by_role("button", name="Create my page").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()


def confirm_from_mailbox(page: Page, site: Site, slug: str) -> None:
    open_mail(page, site, CONFIRM_EMAIL)
    text = page.locator(".mailbox-part pre").first.text_content() or ""
    match = re.search(rf"http://\S+/c/{slug}/fundraisers/confirm/\S+", text)
    assert match, text
    # The emailed link opens a page with a button: a mail scanner's fetch spends nothing.
    page.goto(match.group(0))
    expect(page.get_by_role("heading", name="Confirm your fundraiser")).to_be_visible()
    page.get_by_role("button", name="Confirm my page").click()


@pytest.mark.browser
class TestPeerToPeer:
    def test_supporter_starts_a_page_and_two_donors_give_through_it(
        self, browser: Browser, site: Site
    ) -> None:
        slug = peer_to_peer_campaign(site)
        supporter = context(browser, PHONE)
        page = supporter.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))

        start_fundraiser(page, site, slug)
        confirm_from_mailbox(page, site, slug)
        expect(page).to_have_url(re.compile(rf"/c/{slug}/f/[a-z0-9-]+"))
        expect(page.get_by_role("heading", name="I'm running 10 km for warm coats")).to_be_visible()
        expect(page.locator("#money-goes")).to_contain_text("never receives or handles the money")
        expect(page.locator("#fundraiser-donors")).to_have_attribute("data-donors", "0")
        share_url = page.locator("#share-url").input_value()
        assert re.fullmatch(re.escape(site.url) + rf"/c/{slug}/f/[a-z0-9-]+", share_url), share_url
        team_url = page.locator("#fundraiser-team").get_attribute("href")
        assert team_url

        give_through(
            browser,
            site,
            share_url,
            amount="€25.00",
            email="ada@example.org",
            card="4242 4242 4242 4242",
            slug=slug,
        )
        give_through(
            browser,
            site,
            share_url,
            amount="€10.00",
            email="grace@example.org",
            card="5555 5555 5555 4444",
            slug=slug,
        )

        page.goto(share_url + "?lang=en")
        until_donors(page, page.locator("#fundraiser-donors"), 2)
        expect(page.locator("#fundraiser-raised")).to_have_text("€35.00")
        expect(page.locator("#supporter-list .supporter")).to_have_count(2)
        expect(page.locator(".milestone[data-milestone=first_donor]")).to_be_visible()
        shoot(page, "page-en")

        page.goto(f"{site.url}/c/{slug}?lang=en")
        entry = page.locator("#board-list-people .board-entry")
        until_donors(page, page.locator("#board-list-people .board-donors"), 2)
        expect(entry.first).to_contain_text("I'm running 10 km for warm coats")
        expect(entry.first).to_contain_text("€35.00")
        page.get_by_role("tab", name="Teams").click()
        expect(page.locator("#board-list-teams .board-entry").first).to_contain_text("Harbour Runners")
        page.locator("#fundraisers").screenshot(path=str(screenshots_dir() / "fundraiser-board-390.png"))

        page.goto(site.url + team_url + "?lang=en")
        until_donors(page, page.locator("#fundraiser-donors"), 2)
        expect(page.locator("#team-members .board-donors").first).to_have_attribute("data-donors", "2")
        shoot(page, "team-en")

        # The fundraiser edits their page: a sign-in link by email, a button, then the editor.
        page.goto(share_url + "?lang=en")
        page.get_by_role("link", name="Is this your page? Edit it").click()
        page.get_by_label("Your email").fill(SUPPORTER)
        page.get_by_role("button", name="Email me a sign-in link").click()
        expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
        open_mail(page, site, SIGN_IN_EMAIL)
        text = page.locator(".mailbox-part pre").first.text_content() or ""
        link = re.search(rf"http://\S+/c/{slug}/fundraisers/sign-in/\S+", text)
        assert link, text
        page.goto(link.group(0))
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(page.get_by_role("heading", name="Edit your fundraiser")).to_be_visible()
        page.get_by_label("Title of your page").fill("I'm running 21 km for warm coats")
        page.get_by_role("button", name="Save changes").click()
        expect(page.get_by_label("Title of your page")).to_have_value("I'm running 21 km for warm coats")
        shoot(page, "manage-en")

        # The same pages in Dutch, and on a desktop screen.
        page.goto(share_url + "?lang=nl")
        expect(page.locator("html")).to_have_attribute("lang", "nl")
        expect(page.locator("#fundraiser-donors")).to_have_text("2 donateurs")
        expect(page.locator("#fundraiser-raised")).to_have_text(re.compile(r"€\s35,00"))
        expect(page.locator(".milestone[data-milestone=first_donor]")).to_contain_text(
            "De eerste donateur gaf"
        )
        shoot(page, "page-nl")
        wide = context(browser, DESKTOP)
        desk = wide.new_page()
        for language in ("en", "nl"):
            desk.goto(f"{share_url}?lang={language}")
            shoot(desk, f"page-{language}")
            desk.goto(f"{site.url}{team_url}?lang={language}")
            shoot(desk, f"team-{language}")
            desk.goto(f"{site.url}/c/{slug}/fundraisers/new?lang={language}")
            shoot(desk, f"start-{language}")
        wide.close()
        assert errors == []
        supporter.close()
