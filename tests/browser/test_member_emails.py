"""Members' emails in headless Chromium, through the sandbox mailbox: a member chooses their
notifications, invites a colleague by email, forgets their password and sets a new one from the
emailed link. Screenshots of the pages and the emails at 390x844 and 1280x900."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from tests import databases
from tests.browser.conftest import LiveServer
from tests.browser.screenshots import screenshots_dir
from tests.browser.test_dashboard_flows import sign_up
from tests.browser.test_donor_flows import Site
from tests.campaigns.giving.sandboxed import sandbox_settings
from tests.live_server import free_port, serve

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
NEW_PASSWORD = "a much better passphrase"


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
    page.screenshot(path=str(screenshots_dir() / f"members-{name}-{width}.png"), full_page=True)


def open_mail(page: Page, site: Site, subject: re.Pattern[str]) -> str:
    """The newest message whose subject matches (the worker sends a moment after the page
    answered), opened in the mailbox; returns its text part."""
    for _ in range(60):
        page.goto(f"{site.url}/_sandbox/mail/")
        if page.locator(".mailbox-messages a").filter(has_text=subject).count():
            break
        page.wait_for_timeout(500)
    page.locator(".mailbox-messages a").filter(has_text=subject).first.click()
    expect(page.locator("#message-subject")).to_have_text(subject)
    return page.locator(".mailbox-part pre").first.text_content() or ""


def show_html(page: Page, site: Site, name: str) -> None:
    """The opened message's HTML part as the recipient's mail client shows it."""
    frame_src = page.locator("iframe.mailbox-frame").get_attribute("src")
    assert frame_src
    page.goto(site.url + frame_src)
    shoot(page, name)


@pytest.mark.browser
class TestMemberEmails:
    def test_notifications_invitation_and_forgotten_password(self, browser: Browser, site: Site) -> None:
        owner = f"owner-{uuid.uuid4().hex[:8]}@harbor-relief.org"
        member = context(browser, PHONE)
        page = member.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(site.url + "/")
        sign_up(page, LiveServer(site.url, site.database_url), email=owner)
        page.get_by_role("link", name="Go to your dashboard").click()

        # Notifications: the daily digest until they choose.
        page.get_by_role("link", name="Notifications").click()
        expect(page.get_by_label("One summary a day")).to_be_checked()
        expect(page.get_by_label("Payouts and match decisions")).to_be_checked()
        shoot(page, "notifications")
        page.get_by_label("An email for each gift").check()
        page.get_by_label("Language of your emails").select_option("nl")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Your notification settings are saved.")).to_be_visible()
        expect(page.get_by_label("An email for each gift")).to_be_checked()

        # An invitation goes out by email; the link is still shown once.
        page.get_by_role("link", name="Members").click()
        page.get_by_label("Email").fill("colleague@harbor-relief.org")
        page.get_by_role("button", name="Send invitation").click()
        expect(page.get_by_text("We emailed this link to colleague@harbor-relief.org")).to_be_visible()
        expect(page.locator("#open-invites")).to_contain_text("colleague@harbor-relief.org")
        shoot(page, "invited")
        shown = page.locator("#invite-url").input_value()
        text = open_mail(page, site, re.compile("Join Harbor Relief on Goodloop"))
        assert shown in text
        show_html(page, site, "email-invite")

        # Forgot password: a link by email, a new password, signed in with it.
        page.goto(site.url + "/dashboard")
        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("link", name="Forgot password?").click()
        shoot(page, "forgot")
        page.get_by_label("Email").fill(owner)
        page.get_by_role("button", name="Email me a link").click()
        expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
        shoot(page, "forgot-sent")
        text = open_mail(page, site, re.compile("nieuw Goodloop-wachtwoord"))  # her language, chosen above
        link = re.search(r"http://\S+/dashboard/reset-password/\S+", text)
        assert link, text
        show_html(page, site, "email-reset")
        page.goto(link.group(0))
        expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
        shoot(page, "reset")
        page.get_by_label("New password").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Set my new password").click()
        expect(page.get_by_text("Your password is changed")).to_be_visible()
        page.get_by_label("Email").fill(owner)
        page.get_by_label("Password").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        # This browser never chose a language, so the dashboard opens in the one she saved.
        expect(page.get_by_role("link", name="Meldingen")).to_be_visible()
        page.goto(link.group(0))
        expect(page.get_by_role("heading", name="Deze link werkt niet meer")).to_be_visible()
        shoot(page, "reset-used")
        open_mail(page, site, re.compile("wachtwoord is gewijzigd"))
        show_html(page, site, "email-password-changed")
        assert errors == []
        member.close()

        desktop = context(browser, DESKTOP)
        wide = desktop.new_page()
        for path, name in (
            ("/dashboard/forgot-password", "forgot"),
            ("/admin/forgot-password", "admin-forgot"),
        ):
            wide.goto(site.url + path)
            shoot(wide, name)
        wide.goto(site.url + "/dashboard/login")
        wide.get_by_label("Email").fill(owner)
        wide.get_by_label("Password").fill(NEW_PASSWORD)
        wide.get_by_role("button", name="Sign in").click()
        # Her saved language (Dutch) on a browser that never chose one.
        wide.get_by_role("link", name="Meldingen").click()
        shoot(wide, "notifications")
        wide.get_by_role("link", name="Teamleden").click()
        shoot(wide, "invited")
        desktop.close()
