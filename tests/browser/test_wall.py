"""The wall of support and campaign updates in headless Chromium, on a phone and a desktop.

A donor gives through the donate form with a name and a message, pays on the Stripe sandbox's
Checkout page, and finds both on the campaign's wall; the nonprofit's update is on the page; a
visitor opens the Report form of the message; the nonprofit hides it from the dashboard's
Messages page and the wall shows "Anonymous". Screenshots go to GOODLOOP_SCREENSHOTS_DIR (or the
temporary directory), never into the repository.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from service.auth.admins import create_admin
from service.auth.models import AdminRole
from service.db import Database
from tests import builders, databases
from tests.browser.conftest import PHONE
from tests.browser.screenshots import screenshots_dir
from tests.browser.test_donor_flows import Site, run_async
from tests.campaigns.giving.sandboxed import sandbox_settings
from tests.live_server import free_port, serve

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
SCREENSHOTS = screenshots_dir()


@dataclass(frozen=True)
class Campaign:
    slug: str
    id: str
    org: builders.Org


@pytest.fixture
def site(sqlite_template: Path, tmp_path: Path) -> Iterator[Site]:
    database_url = databases.copy_sqlite_template(sqlite_template, tmp_path)
    port = free_port()
    with serve(sandbox_settings(database_url, tmp_path / "data", port), port=port, run_worker=True) as url:
        yield Site(url=url, database_url=database_url)


def campaign_with_an_update(site: Site) -> Campaign:
    async def build() -> Campaign:
        db = Database.from_url(site.database_url)
        try:
            async with db.transaction() as session:
                created = await create_admin(
                    session, email="admin-wall@goodloop.org", role=AdminRole.SUPERADMIN
                )
        finally:
            await db.dispose()
        admin = builders.AdminUser(id=created.admin.id, email=created.admin.email, token=created.token)
        async with httpx.AsyncClient(base_url=site.url, timeout=30) as client:
            org = await builders.sign_up(client)
            await builders.verify(client, admin, org)
            body = await builders.live_campaign(
                client, org, admin, story="Every child deserves a **warm** coat."
            )
            posted = await client.post(
                f"/api/v1/campaigns/{body['id']}/updates",
                json={"title": "The first 100 coats are here", "body": "Thank you! We bought **100** coats."},
                headers=org.headers,
            )
            assert posted.status_code == 201, posted.text
        return Campaign(slug=body["slug"], id=body["id"], org=org)

    return run_async(build)


def person(browser: Browser, viewport: ViewportSize) -> BrowserContext:
    phone = viewport == PHONE
    context = browser.new_context(
        viewport=viewport, device_scale_factor=2 if phone else 1, is_mobile=phone, has_touch=phone
    )
    context.set_default_timeout(15_000)
    return context


def give(page: Page, site: Site, slug: str, *, name: str, message: str) -> None:
    page.goto(f"{site.url}/c/{slug}")
    page.get_by_label("€25.00").check()
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Message").fill(message)
    page.get_by_role("button", name="Donate").click()
    expect(page).to_have_url(re.compile(re.escape(site.url) + r"/_sandbox/stripe/checkout/"))
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/c/{slug}/thanks\?donation="))
    # The sandbox's webhook reaches the worker, which confirms the gift; the page flips by itself.
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible(timeout=30_000)


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_named_gift_reaches_the_wall_and_the_nonprofit_can_hide_it(
    browser: Browser, site: Site, viewport: ViewportSize
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = viewport["width"]
    campaign = campaign_with_an_update(site)
    donor = person(browser, viewport)
    page = donor.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    give(page, site, campaign.slug, name="Ada Lovelace", message="Warm coats for everyone!")
    page.goto(f"{site.url}/c/{campaign.slug}")

    gift = page.locator("#supporter-list li.supporter").first
    expect(gift.locator(".supporter-name")).to_have_text("Ada Lovelace")
    expect(gift.locator(".supporter-amount")).to_have_text("gave €25.00")
    expect(gift.locator(".supporter-message")).to_have_text("Warm coats for everyone!")
    expect(gift.locator("time")).to_have_text("just now")
    expect(page.locator("#updates .update-title")).to_have_text("The first 100 coats are here")
    expect(page.locator("#updates .update-body strong")).to_have_text("100")
    page.screenshot(path=str(SCREENSHOTS / f"wall-campaign-{size}.png"), full_page=True)
    page.locator("#donate").screenshot(path=str(SCREENSHOTS / f"wall-donate-form-{size}.png"))

    gift.get_by_role("link", name="Report the message from Ada Lovelace").click()
    expect(page.locator("#reported-message")).to_contain_text("Warm coats for everyone!")
    page.screenshot(path=str(SCREENSHOTS / f"wall-report-{size}.png"), full_page=True)

    nonprofit = person(browser, viewport)
    dashboard = nonprofit.new_page()
    dashboard.goto(f"{site.url}/dashboard/login")
    dashboard.get_by_label("Email").fill(campaign.org.email)
    dashboard.get_by_label("Password").fill(builders.PASSWORD)
    dashboard.get_by_role("button", name="Sign in").click()
    dashboard.goto(f"{site.url}/dashboard/campaigns/{campaign.id}/messages")
    expect(dashboard.locator("#messages .supporter-message")).to_have_text("Warm coats for everyone!")
    dashboard.screenshot(path=str(SCREENSHOTS / f"wall-dashboard-messages-{size}.png"), full_page=True)
    dashboard.get_by_role("button", name="Hide").click()
    expect(dashboard.locator("#messages li.message")).to_have_attribute("data-status", "hidden")
    dashboard.goto(f"{site.url}/dashboard/campaigns/{campaign.id}/updates")
    dashboard.screenshot(path=str(SCREENSHOTS / f"wall-dashboard-updates-{size}.png"), full_page=True)

    # A new visitor: the donor's own browser may keep the page for its short public max-age.
    visitor = person(browser, viewport)
    later = visitor.new_page()
    later.goto(f"{site.url}/c/{campaign.slug}")
    first = later.locator("#supporter-list li.supporter").first
    expect(first.locator(".supporter-name")).to_have_text("Anonymous")
    expect(later.locator("#supporter-list")).not_to_contain_text("Warm coats for everyone!")
    later.locator("#supporters").screenshot(path=str(SCREENSHOTS / f"wall-hidden-{size}.png"))
    assert errors == []
    for context in (donor, nonprofit, visitor):
        context.close()
