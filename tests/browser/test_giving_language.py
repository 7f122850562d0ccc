"""The donor's pages in Dutch and English in Chromium (#19): a whole gift in each language, from
the campaign page (`?lang=`, then the remembered cookie) through the sandbox's Checkout to the
thank-you page, and screenshots of the campaign page, the embed and the thank-you page at
390x844 and 1280x900 in both languages for a person to look at (GOODLOOP_SCREENSHOTS_DIR or
`.screenshots/`). Fails on a console error (a CSP violation is one) or a page that scrolls
sideways on the phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests import databases
from tests.browser.screenshots import screenshots_dir
from tests.browser.test_donor_flows import Site
from tests.browser.test_sharing import SIZES, matched_campaign, new_context
from tests.campaigns.giving.sandboxed import sandbox_settings
from tests.live_server import free_port, serve

NBSP = "\xa0"
WORDS = {
    "nl": {"amount": f"€{NBSP}25,00", "donate": "Doneer", "thanks": "Bedankt!", "give": "Geef"},
    "en": {"amount": "€25.00", "donate": "Donate", "thanks": "Thank you!", "give": "Give"},
}


@pytest.fixture
def site(sqlite_template: Path, tmp_path: Path) -> Iterator[Site]:
    database_url = databases.copy_sqlite_template(sqlite_template, tmp_path)
    port = free_port()
    with serve(sandbox_settings(database_url, tmp_path / "data", port), port=port, run_worker=True) as url:
        yield Site(url=url, database_url=database_url)


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


@pytest.mark.browser
class TestDonorPagesInBothLanguages:
    @pytest.mark.parametrize("lang", ["nl", "en"])
    def test_a_gift_in_the_readers_language_with_screenshots(
        self, browser: Browser, site: Site, lang: str
    ) -> None:
        words = WORDS[lang]
        slug = matched_campaign(site)
        folder = screenshots_dir()
        errors: list[str] = []
        context = new_context(browser, "phone", init_script="")
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        page.goto(f"{site.url}/c/{slug}?lang={lang}")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        # The choice is remembered: the same address without ?lang= stays in the language.
        page.goto(f"{site.url}/c/{slug}")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.get_by_role("heading", name=words["give"], exact=True)).to_be_visible()
        page.get_by_label(words["amount"], exact=True).check()
        page.get_by_role("button", name=words["donate"], exact=True).click()
        expect(page).to_have_url(re.compile(re.escape(site.url) + r"/_sandbox/stripe/checkout/"))
        page.get_by_role("button", name="Pay", exact=True).click()
        expect(page).to_have_url(re.compile(rf"/c/{slug}/thanks\?donation="))
        expect(page.get_by_role("heading", name=words["thanks"])).to_be_visible(timeout=30_000)
        expect(page.locator("#amount")).to_have_text(words["amount"])
        expect(page.locator("html")).to_have_attribute("lang", lang)
        thanks_url = page.url
        context.close()

        for size in SIZES:
            context = new_context(browser, size, init_script="")
            page = context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            for name, path in (
                ("campaign", f"/c/{slug}?lang={lang}"),
                ("embed", f"/embed/{slug}?lang={lang}"),
                ("thanks", thanks_url.removeprefix(site.url) + f"&lang={lang}"),
            ):
                page.goto(site.url + path)
                page.wait_for_load_state("load")
                expect(page.locator("html")).to_have_attribute("lang", lang)
                page.screenshot(path=folder / f"giving-{name}-{lang}-{size}.png", full_page=True)
                if size == "phone":
                    no_sideways_scroll(page)
            context.close()
        assert errors == [], errors


@pytest.mark.browser
def test_a_dutch_page_follows_a_gift_in_dutch_and_announces_it_once_politely(
    browser: Browser, site: Site
) -> None:
    slug = site.live_campaign(origins=[])
    watcher = browser.new_context(viewport=SIZES["phone"], reduced_motion="reduce")
    page = watcher.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{site.url}/c/{slug}?lang=nl")
    expect(page.locator("#donor-count")).to_have_text("0 donateurs")
    expect(page.locator("article.campaign")).to_have_attribute("data-live-state", "open")
    announce = page.locator("#progress-announce")
    expect(announce).to_have_attribute("aria-live", "polite")
    expect(announce).to_have_text("")

    donor = new_context(browser, "desktop", init_script="")
    giving = donor.new_page()
    giving.goto(f"{site.url}/c/{slug}?lang=en")
    giving.get_by_label("€25.00", exact=True).check()
    giving.get_by_role("button", name="Donate", exact=True).click()
    giving.get_by_role("button", name="Pay", exact=True).click()
    expect(giving).to_have_url(re.compile(rf"/c/{slug}/thanks\?donation="))

    expect(page.locator("#donor-count")).to_have_text("1 donateur", timeout=30_000)
    expect(page.locator("#total")).to_have_text(f"€{NBSP}25,00")
    newest = page.locator("#supporter-list > li.supporter").first
    expect(newest.locator(".supporter-name")).to_have_text("Anoniem")
    expect(newest.locator(".supporter-amount")).to_have_text(f"gaf €{NBSP}25,00")
    expect(newest).not_to_have_class(re.compile("supporter-new"))  # no arrival animation
    # One sentence for screen readers, not every digit that changed.
    expect(announce).to_have_text(re.compile(rf"^€{NBSP}25,00 opgehaald van €{NBSP}[\d.]+,00$"))
    expect(page.locator("#progress-bar")).to_have_attribute(
        "aria-label", re.compile(r"van het doel opgehaald$")
    )
    donor.close()
    watcher.close()
    assert errors == [], errors
