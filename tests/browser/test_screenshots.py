"""Screenshots of the donor's pages for a person to look at: the campaign page and the thank-you
page, on a phone (390x844) and a desktop (1280x900), full page, written to
GOODLOOP_SCREENSHOTS_DIR or `.screenshots/` at the repository root (not committed).

The campaign has what a real one has: a live 1:1 match, a gift with a name and a message, so
every part of the page shows. The test fails if a page logs an error (a CSP violation is one)
or scrolls sideways on the phone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests import databases
from tests.browser.screenshots import screenshots_dir
from tests.browser.test_donor_flows import Site, give
from tests.browser.test_sharing import SIZES, matched_campaign, new_context
from tests.campaigns.giving.sandboxed import sandbox_settings
from tests.live_server import free_port, serve

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def site(sqlite_template: Path, tmp_path: Path) -> Iterator[Site]:
    database_url = databases.copy_sqlite_template(sqlite_template, tmp_path)
    port = free_port()
    with serve(sandbox_settings(database_url, tmp_path / "data", port), port=port, run_worker=True) as url:
        yield Site(url=url, database_url=database_url)


def fill_if_there(page: Page, label: str, value: str) -> None:
    # Optional donor fields; the screenshots should not depend on one part's wording.
    field = page.get_by_label(label, exact=True)
    if field.count() == 1:
        field.fill(value)


def wait_for_gift(page: Page, url: str) -> None:
    """The page may have been rendered before the webhook landed: reload until the gift shows."""
    for _ in range(30):
        page.goto(url)
        page.wait_for_load_state("load")
        if page.get_by_text("Ada", exact=False).count() > 0:
            return
        page.wait_for_timeout(1_000)


@pytest.mark.browser
class TestScreenshots:
    def test_campaign_and_thank_you_pages_at_both_sizes(self, browser: Browser, site: Site) -> None:
        slug = matched_campaign(site)
        folder = screenshots_dir()
        context = new_context(browser, "phone", init_script="")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        page.goto(f"{site.url}/c/{slug}")
        fill_if_there(page, "Your name (shown with your gift)", "Ada Lovelace")
        fill_if_there(page, "Message (optional, shown with your gift)", "Warm coats for warm hearts!")
        give(page, site, slug, amount="€25.00")
        expect(page.get_by_role("heading", name="Thank you!")).to_be_visible(timeout=30_000)
        thanks_url = page.url
        context.close()

        for size in SIZES:
            context = new_context(browser, size, init_script="")
            page = context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            wait_for_gift(page, f"{site.url}/c/{slug}")
            page.screenshot(path=folder / f"campaign-{size}.png", full_page=True)
            if size == "phone":
                assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            page.goto(thanks_url)
            expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
            page.get_by_text("Show a QR code to scan in person").click()  # so the picture has it
            page.screenshot(path=folder / f"thanks-{size}.png", full_page=True)
            if size == "phone":
                assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            context.close()

        for name in ("campaign-phone", "campaign-desktop", "thanks-phone", "thanks-desktop"):
            assert (folder / f"{name}.png").stat().st_size > 0
        assert [e for e in errors if not e.startswith("Failed to load resource")] == []
