"""The flows nonprofit members click through, in a real headless Chromium on a phone-sized screen."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer

PASSWORD = "correct horse battery"
STORY = "## Why coats\n\nEvery child deserves a **warm** coat. <script>alert('x')</script>"


def sign_up(page: Page, server: LiveServer, *, email: str) -> str:
    page.goto(server.url("/signup"))
    page.get_by_label("Organisation name").fill("Harbor Relief")
    page.get_by_label("Your email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Country").fill("IE")
    page.get_by_label("Charity registration number").fill("CHY 12345")
    page.get_by_label("Website").fill("https://harbor-relief.org")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Copy it now.")).to_be_visible()
    key = page.locator("#api-key").input_value()
    assert key.startswith("gl_key_")
    return key


def fill_campaign(page: Page, *, slug: str, goal: str) -> None:
    page.get_by_label("Title").fill("Winter coats for 300 kids")
    page.get_by_label("Address").fill(slug)
    page.get_by_label("Story").fill(STORY)
    page.get_by_label("Currency").select_option("eur")
    page.get_by_label("Goal").fill(goal)
    page.get_by_label("Suggested amounts").fill("10 25.50 50")


@pytest.mark.browser
class TestMemberJourney:
    def test_sign_up_create_preview_save_submit_and_sign_in_again(
        self, page: Page, live_server: LiveServer
    ) -> None:
        email = f"owner-{uuid.uuid4().hex[:8]}@harbor-relief.org"
        api_key = sign_up(page, live_server, email=email)

        page.get_by_role("link", name="Go to your dashboard").click()
        page.get_by_role("link", name="New campaign").click()
        slug = f"winter-coats-{uuid.uuid4().hex[:6]}"
        fill_campaign(page, slug=slug, goal="2500.505")
        page.get_by_role("button", name="Save draft").click()
        expect(page.locator("#goal-error")).to_have_text("EUR has 2 decimal places; 2500.505 has more.")
        expect(page.get_by_label("Title")).to_have_value("Winter coats for 300 kids")
        expect(page.get_by_label("Goal")).to_have_attribute("aria-invalid", "true")

        page.get_by_label("Goal").fill("2500.50")
        page.get_by_role("button", name="Preview story").click()
        preview = page.locator("#story-preview")
        expect(preview.locator("h2")).to_have_text("Why coats")
        expect(preview.locator("strong")).to_have_text("warm")
        assert page.locator("script").count() == 0
        page.screenshot(path="/tmp/goodloop-campaign-form.png", full_page=True)

        page.get_by_role("button", name="Save draft").click()
        expect(page).to_have_url(re.compile(r"/dashboard/campaigns/[0-9a-f-]{36}$"))
        expect(page.locator("#campaign-status")).to_have_text("draft")
        expect(page.get_by_text("€2,500.50")).to_be_visible()

        self.verify_organisation(live_server, api_key)
        page.get_by_role("button", name="Submit for review").click()
        expect(page.locator("#campaign-status")).to_have_text("in review")
        expect(page.get_by_role("button", name="Withdraw from review")).to_be_visible()
        page.screenshot(path="/tmp/goodloop-campaign-detail.png", full_page=True)

        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(live_server.url("/dashboard/login"))
        page.goto(live_server.url("/dashboard/campaigns"))
        expect(page).to_have_url(live_server.url("/dashboard/login"))
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(live_server.url("/dashboard"))
        expect(page.get_by_role("link", name="Winter coats for 300 kids")).to_be_visible()

    @staticmethod
    def verify_organisation(server: LiveServer, api_key: str) -> None:
        with httpx.Client(base_url=server.base_url) as client:
            me = client.get("/api/v1/nonprofits/me", headers={"Authorization": f"Bearer {api_key}"})
            admin = {"Authorization": f"Bearer {server.admin_token()}"}
            verified = client.post(
                f"/api/v1/admin/nonprofits/{me.json()['id']}/verify", json={}, headers=admin
            )
            assert verified.status_code == 200, verified.text


@pytest.mark.browser
class TestPhoneLayout:
    def test_pages_fit_the_screen_without_sideways_scrolling(
        self, page: Page, live_server: LiveServer
    ) -> None:
        sign_up(page, live_server, email=f"owner-{uuid.uuid4().hex[:8]}@harbor-relief.org")
        page.goto(live_server.url("/dashboard/campaigns/new"))
        fill_campaign(page, slug=f"winter-coats-{uuid.uuid4().hex[:6]}", goal="2500")
        page.get_by_role("button", name="Save draft").click()
        expect(page).to_have_url(re.compile(r"/dashboard/campaigns/[0-9a-f-]{36}$"))
        for path in ["", "/edit"]:
            page.goto(page.url.removesuffix("/edit") + path)
            self.assert_fits(page)
        for path in [
            "/dashboard",
            "/dashboard/campaigns",
            "/dashboard/members",
            "/dashboard/api-keys",
            "/signup",
        ]:
            page.goto(live_server.url(path))
            self.assert_fits(page)

    @staticmethod
    def assert_fits(page: Page) -> None:
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"
