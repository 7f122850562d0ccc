"""Recurring gifts in headless Chromium, with screenshots at 390x844 and 1280x900: the donate
form's "How often" choice, the thank-you page's "You give ... every month", the failed-payment
email and its card link to the Billing Portal, and the nonprofit's Recurring page."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import httpx
import pytest
import sqlalchemy as sa
from playwright._impl._api_structures import SetCookieParam
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from campaigns.recurring.models import RecurringGift
from service.auth.admins import create_admin
from service.auth.models import AdminRole
from service.db import Database
from service.settings import SANDBOX_PATH
from tests import builders, databases
from tests.browser.screenshots import screenshots_dir
from tests.browser.test_donor_flows import Site, run_async
from tests.campaigns.giving.sandboxed import sandbox_settings
from tests.live_server import free_port, serve

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
DONOR = "grace@example.org"


@pytest.fixture
def site(sqlite_template: Path, tmp_path: Path) -> Iterator[Site]:
    database_url = databases.copy_sqlite_template(sqlite_template, tmp_path)
    port = free_port()
    with serve(sandbox_settings(database_url, tmp_path / "data", port), port=port, run_worker=True) as url:
        yield Site(url=url, database_url=database_url)


def org_and_campaign(site: Site) -> tuple[builders.Org, str]:
    async def admin() -> builders.AdminUser:
        db = Database.from_url(site.database_url)
        try:
            async with db.transaction() as session:
                made = await create_admin(
                    session, email=f"admin-{uuid.uuid4().hex[:8]}@goodloop.org", role=AdminRole.SUPERADMIN
                )
            return builders.AdminUser(id=made.admin.id, email=made.admin.email, token=made.token)
        finally:
            await db.dispose()

    async def build(user: builders.AdminUser) -> tuple[builders.Org, str]:
        async with httpx.AsyncClient(base_url=site.url, timeout=30) as client:
            org = await builders.sign_up(client)
            await builders.verify(client, user, org)
            campaign = await builders.live_campaign(client, org, user, allowed_embed_origins=[])
            return org, str(campaign["slug"])

    user = run_async(admin)
    return run_async(lambda: build(user))


def context(browser: Browser, viewport: ViewportSize) -> BrowserContext:
    phone = viewport == PHONE
    made = browser.new_context(
        viewport=viewport, device_scale_factor=2 if phone else 1, is_mobile=phone, has_touch=phone
    )
    made.set_default_timeout(15_000)
    return made


def shoot(page: Page, name: str) -> None:
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.screenshot(path=str(screenshots_dir() / f"recurring-{name}-{width}.png"), full_page=True)


def control(site: Site, path: str, body: dict[str, str]) -> None:
    response = httpx.post(f"{site.url}{SANDBOX_PATH}/_control/{path}", json=body, timeout=30)
    assert response.status_code == 200, response.text


def subscription_of(site: Site) -> str:
    async def load() -> str:
        db = Database.from_url(site.database_url)
        try:
            async with db.transaction() as session:
                found = await session.scalar(sa.select(RecurringGift.stripe_subscription_id))
            assert found is not None
            return str(found)
        finally:
            await db.dispose()

    for _ in range(60):
        try:
            return run_async(load)
        except AssertionError:
            time.sleep(0.5)
    raise AssertionError("the gift never started")


def open_mail(page: Page, site: Site, subject: re.Pattern[str]) -> None:
    for _ in range(60):
        page.goto(f"{site.url}/_sandbox/mail/")
        if page.locator(".mailbox-messages a").filter(has_text=subject).count():
            break
        page.wait_for_timeout(500)
    page.locator(".mailbox-messages a").filter(has_text=subject).first.click()


@pytest.mark.browser
class TestRecurringGiftScreens:
    def test_give_monthly_fail_a_renewal_fix_the_card_and_see_the_figures(
        self, browser: Browser, site: Site
    ) -> None:
        org, slug = org_and_campaign(site)
        donor = context(browser, PHONE)
        page = donor.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))

        page.goto(f"{site.url}/c/{slug}")
        expect(page.get_by_role("group", name="How often")).to_be_visible()
        expect(page.get_by_label("Once")).to_be_checked()
        page.get_by_label("Monthly").check()
        page.get_by_label("€10.00").check()
        page.locator("fieldset.frequency").scroll_into_view_if_needed()
        shoot(page, "form")
        page.get_by_label("Email").fill(DONOR)
        page.get_by_role("button", name="Donate").click()
        expect(page).to_have_url(re.compile(re.escape(site.url) + r"/_sandbox/stripe/checkout/"))
        page.get_by_role("button", name="Subscribe").click()
        expect(page.get_by_role("heading", name="Thank you!")).to_be_visible(timeout=30_000)
        expect(page.locator("#recurring")).to_contain_text("You give €10.00 every month")
        shoot(page, "thanks")

        # A renewal is declined: the donor gets an email whose link opens the Billing Portal.
        control(site, f"subscriptions/{subscription_of(site)}/renew", {"outcome": "fail"})
        open_mail(page, site, re.compile("did not go through"))
        text = page.locator(".mailbox-part pre").first.text_content() or ""
        link = re.search(r"http://\S+/recurring/card/\S+", text)
        assert link, text
        frame_src = page.locator("iframe.mailbox-frame").get_attribute("src")
        assert frame_src
        page.goto(site.url + frame_src)
        expect(page.locator("body")).to_contain_text("€10.00")
        shoot(page, "email-payment-failed")
        page.goto(link.group(0))
        page.get_by_role("button", name="Update card").click()
        expect(page).to_have_url(re.compile(re.escape(site.url + SANDBOX_PATH)))
        shoot(page, "billing-portal")

        wide = context(browser, DESKTOP).new_page()
        wide.goto(f"{site.url}/dashboard/login")
        wide.get_by_label("Email").fill(org.email)
        wide.get_by_label("Password").fill(builders.PASSWORD)
        wide.get_by_role("button", name=re.compile("Log in|Sign in")).click()
        wide.goto(f"{site.url}/dashboard/recurring")
        expect(wide.get_by_role("heading", name="Recurring gifts")).to_be_visible()
        expect(wide.locator('[data-figure="mrr"]')).to_have_text("€10.00")
        shoot(wide, "dashboard")
        wide.goto(f"{site.url}/c/{slug}")
        wide.get_by_label("Yearly").check()
        wide.locator("fieldset.frequency").scroll_into_view_if_needed()
        shoot(wide, "form")
        phone_dashboard = context(browser, PHONE).new_page()
        phone_dashboard.context.add_cookies(cast(list[SetCookieParam], wide.context.cookies()))
        phone_dashboard.goto(f"{site.url}/dashboard/recurring")
        shoot(phone_dashboard, "dashboard")
        assert errors == []
