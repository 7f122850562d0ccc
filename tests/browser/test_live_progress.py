"""Live progress in headless Chromium: a page left open follows another donor's gift.

Two browser contexts (two people): the first opens the campaign page and keeps it open; the
second gives through the Stripe sandbox's Checkout page. The sandbox's signed webhook reaches
the app, its worker confirms the gift, and the first page's numbers and wall of support change
without a reload, on a phone and on a desktop. Screenshots go to GOODLOOP_SCREENSHOTS_DIR (or the
temporary directory), never into the repository.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from tests import databases
from tests.browser.conftest import PHONE
from tests.browser.screenshots import screenshots_dir
from tests.browser.test_donor_flows import Site
from tests.campaigns.giving.sandboxed import sandbox_settings
from tests.live_server import free_port, serve

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
SCREENSHOTS = screenshots_dir()


@pytest.fixture
def site(sqlite_template: Path, tmp_path: Path) -> Iterator[Site]:
    database_url = databases.copy_sqlite_template(sqlite_template, tmp_path)
    port = free_port()
    with serve(sandbox_settings(database_url, tmp_path / "data", port), port=port, run_worker=True) as url:
        yield Site(url=url, database_url=database_url)


def person(browser: Browser, viewport: ViewportSize) -> BrowserContext:
    phone = viewport == PHONE
    context = browser.new_context(
        viewport=viewport, device_scale_factor=2 if phone else 1, is_mobile=phone, has_touch=phone
    )
    context.set_default_timeout(15_000)
    return context


def pay(page: Page, site: Site, slug: str, *, amount: str, name: str, message: str) -> None:
    page.goto(f"{site.url}/c/{slug}")
    page.get_by_label(amount).check()
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Message").fill(message)
    page.get_by_role("button", name="Donate").click()
    expect(page).to_have_url(re.compile(re.escape(site.url) + r"/_sandbox/stripe/checkout/"))
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/c/{slug}/thanks\?donation="))


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_an_open_page_follows_another_donors_gift_without_reloading(
    browser: Browser, site: Site, viewport: ViewportSize
) -> None:
    slug = site.live_campaign(origins=[])
    watcher = person(browser, viewport)
    page = watcher.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{site.url}/c/{slug}")
    expect(page.locator("#donor-count")).to_have_text("0 donors")
    raised_before = page.locator("#raised").inner_text()
    # Marks this document: a reload would make a new one without it.
    page.evaluate("window.__stillTheSamePage = true")
    # The stream is open before the other donor pays.
    expect(page.locator("article.campaign")).to_have_attribute("data-live-state", "open")

    donor = person(browser, viewport)
    pay(donor.new_page(), site, slug, amount="€25.00", name="Grace Hopper", message="For warm coats!")

    expect(page.locator("#donor-count")).to_have_text("1 donor", timeout=30_000)
    expect(page.locator("#raised")).to_have_text("€25.00")
    expect(page.locator("#total")).to_have_text("€25.00")
    newest = page.locator("#supporter-list > li.supporter").first
    expect(newest.locator(".supporter-name")).to_have_text("Grace Hopper")
    expect(newest.locator(".supporter-amount")).to_have_text("gave €25.00")
    expect(newest.locator(".supporter-message")).to_have_text("For warm coats!")
    assert page.evaluate("window.__stillTheSamePage") is True
    assert raised_before != "€25.00"
    bar_value = page.locator("#progress-bar").evaluate("bar => bar.value")
    assert bar_value == 2500

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"live-{viewport['width']}.png"), full_page=True)
    donor.close()
    watcher.close()
    assert errors == []


@pytest.mark.browser
def test_without_event_source_the_page_polls_the_summary_and_still_follows(
    browser: Browser, site: Site
) -> None:
    slug = site.live_campaign(origins=[])
    watcher = person(browser, PHONE)
    # A browser without EventSource (or a stream the server refused): the script polls.
    watcher.add_init_script("delete window.EventSource;")
    page = watcher.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{site.url}/c/{slug}")
    expect(page.locator("article.campaign")).to_have_attribute("data-live-state", "polling")
    page.evaluate("window.__stillTheSamePage = true")

    donor = person(browser, PHONE)
    pay(donor.new_page(), site, slug, amount="€10.00", name="Katherine Johnson", message="Go!")

    # Every 15 seconds: wait for two rounds and then some.
    expect(page.locator("#donor-count")).to_have_text("1 donor", timeout=45_000)
    expect(page.locator("#raised")).to_have_text("€10.00")
    assert page.evaluate("window.__stillTheSamePage") is True
    donor.close()
    watcher.close()
    assert errors == []
