"""Issue #14's proof in headless Chromium: a donor gives monthly in the Stripe sandbox, reads
the receipt in the sandbox mailbox, signs in to the donor portal from the emailed link and
cancels; the gift shows canceled once Stripe's webhook lands. Screenshots of the portal pages
and the emails at 390x844 and 1280x900 go to the screenshots folder."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from tests import databases
from tests.browser.screenshots import screenshots_dir
from tests.browser.test_donor_flows import Site
from tests.campaigns.giving.sandboxed import sandbox_settings
from tests.live_server import free_port, serve

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
DONOR = "Ada.Lovelace@example.org"


@pytest.fixture
def site(sqlite_template: Path, tmp_path: Path) -> Iterator[Site]:
    database_url = databases.copy_sqlite_template(sqlite_template, tmp_path)
    port = free_port()
    with serve(sandbox_settings(database_url, tmp_path / "data", port), port=port, run_worker=True) as url:
        yield Site(url=url, database_url=database_url)


def context(browser: Browser, viewport: ViewportSize) -> BrowserContext:
    phone = viewport == PHONE
    made = browser.new_context(
        viewport=viewport, device_scale_factor=2 if phone else 1, is_mobile=phone, has_touch=phone
    )
    made.set_default_timeout(15_000)
    return made


def shoot(page: Page, name: str) -> None:
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.screenshot(path=str(screenshots_dir() / f"portal-{name}-{width}.png"), full_page=True)


def mails(page: Page, site: Site, subject: re.Pattern[str]) -> int:
    page.goto(f"{site.url}/_sandbox/mail/")
    return page.locator(".mailbox-messages a").filter(has_text=subject).count()


def open_mail(page: Page, site: Site, subject: re.Pattern[str], *, seen: int = 0) -> None:
    """The newest message whose subject matches, once there are more than `seen`, opened in the
    sandbox mailbox (the worker sends a moment after the page that queued it answered)."""
    for _ in range(60):
        if mails(page, site, subject) > seen:
            break
        page.wait_for_timeout(500)
    page.locator(".mailbox-messages a").filter(has_text=subject).first.click()
    expect(page.locator("#message-subject")).to_have_text(subject)


def email_html(page: Page, site: Site) -> None:
    """The opened message's HTML part on its own, as the recipient's mail client shows it."""
    frame_src = page.locator("iframe.mailbox-frame").get_attribute("src")
    assert frame_src
    page.goto(site.url + frame_src)


def sign_in_from_mailbox(page: Page, site: Site, *, shots: bool) -> None:
    link_email = re.compile("Your sign-in link")
    seen = mails(page, site, link_email)
    page.goto(f"{site.url}/donor?lang=en")
    expect(page.get_by_role("heading", name="Your gifts, in one place")).to_be_visible()
    if shots:
        shoot(page, "sign-in")
    page.get_by_label("Email address you gave with").fill(DONOR)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    if shots:
        shoot(page, "sent")
    open_mail(page, site, link_email, seen=seen)
    text = page.locator(".mailbox-part pre").first.text_content() or ""
    match = re.search(r"http://\S+/donor/sign-in/\S+", text)
    assert match, text
    if shots:
        email_html(page, site)
        shoot(page, "email-sign-in")
    # The emailed link opens a page with a button: a mail scanner's fetch spends nothing.
    page.goto(match.group(0))
    expect(page.get_by_role("heading", name="Sign in to your gifts")).to_be_visible()
    if shots:
        shoot(page, "link")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Your gifts", exact=True)).to_be_visible()


@pytest.mark.browser
class TestRecurringGiftThroughThePortal:
    def test_donor_gives_monthly_reads_the_receipt_signs_in_by_email_and_cancels(
        self, browser: Browser, site: Site
    ) -> None:
        slug = site.live_campaign(origins=[])
        donor = context(browser, PHONE)
        page = donor.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))

        # Give monthly: the donate form, the sandbox's subscription Checkout, the thank-you page.
        page.goto(f"{site.url}/c/{slug}")
        page.get_by_label("€25.00").check()
        page.get_by_label("Monthly").check()
        page.get_by_label("Email").fill(DONOR)
        page.get_by_role("button", name="Donate").click()
        expect(page).to_have_url(re.compile(re.escape(site.url) + r"/_sandbox/stripe/checkout/"))
        page.get_by_role("button", name="Subscribe").click()
        expect(page).to_have_url(re.compile(rf"/c/{slug}/thanks\?donation="))
        expect(page.get_by_role("heading", name="Thank you!")).to_be_visible(timeout=30_000)

        # The receipt arrives in the mailbox, with its PDF.
        open_mail(page, site, re.compile("receipt", re.IGNORECASE))
        expect(page.locator(".mailbox-attachments a")).to_contain_text(".pdf")
        email_html(page, site)
        expect(page.locator("body")).to_contain_text("€25.00")
        shoot(page, "email-receipt")

        sign_in_from_mailbox(page, site, shots=True)
        plan = page.locator(".portal-plan").first
        expect(plan).to_contain_text("€25.00")
        expect(plan.locator("[data-state]").first).to_have_attribute("data-state", "active")
        expect(page.locator(".portal-gift").first).to_contain_text("€25.00")
        expect(page.locator(".portal-gift").first).to_contain_text("monthly gift, payment 1")
        expect(page.locator(".portal-download").first).to_contain_text("Receipt")
        shoot(page, "gifts")
        plan.get_by_text("Change amount").click()
        expect(plan.get_by_label(re.compile("New amount per month"))).to_have_value("25.00")
        shoot(page, "change-amount")

        # The same portal in a desktop browser, signed in from its own emailed link.
        desktop = context(browser, DESKTOP)
        wide = desktop.new_page()
        sign_in_from_mailbox(wide, site, shots=True)
        shoot(wide, "gifts")

        # Cancel: a confirm step, then Stripe cancels; the portal says so only once Stripe's
        # customer.subscription.deleted webhook has changed the gift in our books.
        plan.get_by_role("link", name="Cancel gift").click()
        expect(page.get_by_role("heading", name="Cancel your recurring gift?")).to_be_visible()
        shoot(page, "cancel")
        page.get_by_role("button", name="Yes, cancel my gift").click()
        expect(page.get_by_role("heading", name="Your gifts", exact=True)).to_be_visible()
        state = page.locator(".portal-plan [data-state]").first
        expect(state).to_have_attribute("data-state", re.compile("cancelling|canceled"))
        for _ in range(60):
            if state.get_attribute("data-state") == "canceled":
                break
            page.wait_for_timeout(500)
            page.reload()
        expect(state).to_have_attribute("data-state", "canceled")
        expect(state).to_have_text("Canceled")
        shoot(page, "canceled")
        assert errors == []

        # The desktop browser sees the cancellation too, and the portal reads in Dutch.
        wide.reload()
        expect(wide.locator(".portal-plan [data-state]").first).to_have_attribute("data-state", "canceled")
        shoot(wide, "gifts-canceled")
        wide.goto(f"{site.url}/donor?lang=nl")
        expect(wide.get_by_role("heading", name="Je giften", exact=True)).to_be_visible()
        expect(wide.locator("html")).to_have_attribute("lang", "nl")
        shoot(wide, "gifts-nl")
        desktop.close()
        donor.close()
