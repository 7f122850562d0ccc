"""The dashboard's tax profile in headless Chromium: an owner fills it in on a phone, sees the
error next to the field, saves, and reads the text receipts will carry; screenshots at phone
and desktop size for a person to look at."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from tests.browser import test_dashboard_flows as flows
from tests.browser.conftest import LiveServer
from tests.browser.screenshots import screenshots_dir


class TestTaxProfile:
    def test_an_owner_fills_in_the_profile_and_sees_what_receipts_say(
        self, page: Page, live_server: LiveServer
    ) -> None:
        flows.sign_up(page, live_server, email=f"owner-{uuid.uuid4().hex[:8]}@harbor-relief.org")
        page.goto(live_server.url("/dashboard"))
        page.get_by_role("link", name="Tax profile").click()
        expect(page.get_by_role("heading", name="Tax profile")).to_be_visible()
        flows.TestPhoneLayout.assert_fits(page)

        page.get_by_label("Legal name").fill("Stichting Warme Jassen")
        page.get_by_label("Country").fill("NL")
        page.get_by_label("Registration number").fill("12345678")
        page.get_by_label("Tax identifier").fill("111222334")
        page.get_by_label("Time zone").fill("Europe/Amsterdam")
        page.get_by_role("button", name="Save tax profile").click()
        error = page.locator("#tax_id-error")
        expect(error).to_contain_text("eleven test")
        expect(page.get_by_label("Tax identifier")).to_have_attribute("aria-invalid", "true")
        page.screenshot(path=str(screenshots_dir() / "tax-profile-error-phone.png"), full_page=True)

        page.get_by_label("Tax identifier").fill("111222333")
        page.get_by_role("button", name="Save tax profile").click()
        expect(page.get_by_text("Your tax profile is saved.")).to_be_visible()
        expect(page.locator(".tax-preview blockquote")).to_contain_text("(ANBI), RSIN 111222333")
        flows.TestPhoneLayout.assert_fits(page)
        page.screenshot(path=str(screenshots_dir() / "tax-profile-phone.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path=str(screenshots_dir() / "tax-profile-desktop.png"), full_page=True)
