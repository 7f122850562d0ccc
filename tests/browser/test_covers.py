"""A member uploads a cover in the dashboard and donors see it on the campaign page, on a phone
and a desktop, with the organisation block, the footer and the favicon (no request 404s).
Screenshots go to GOODLOOP_SCREENSHOTS_DIR or `.screenshots/` (not committed)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, FilePayload, Page, Response, ViewportSize, expect

from tests.browser.conftest import PHONE, LiveServer
from tests.browser.screenshots import screenshots_dir
from tests.browser.test_dashboard_flows import TestMemberJourney, fill_campaign, sign_up
from tests.campaigns.covers import images

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
ALT = "Volunteers handing out winter coats"
ROOT = Path(__file__).resolve().parents[2]


def upload_cover_in_dashboard(page: Page, server: LiveServer) -> tuple[str, str]:
    """Sign up, create a draft and upload its cover through the form; (slug, API key)."""
    api_key = sign_up(page, server, email=f"owner-{uuid.uuid4().hex[:8]}@harbor-relief.org")
    page.get_by_role("link", name="Go to your dashboard").click()
    page.get_by_role("link", name="New campaign").click()
    slug = f"winter-coats-{uuid.uuid4().hex[:6]}"
    fill_campaign(page, slug=slug, goal="2500")
    page.get_by_role("button", name="Save draft").click()
    expect(page).to_have_url(re.compile(r"/dashboard/campaigns/[0-9a-f-]{36}$"))

    # A text file named like a photo: refused next to the field, the description kept.
    page.get_by_label("Upload an image").set_input_files(
        files=FilePayload(name="notes.jpg", mimeType="image/jpeg", buffer=b"just some notes")
    )
    page.get_by_label("Describe the image").fill(ALT)
    page.get_by_role("button", name="Save cover").click()
    expect(page.locator("#image-error")).to_have_text("The file is not a JPEG, PNG or WebP image.")
    expect(page.get_by_label("Describe the image")).to_have_value(ALT)

    photo = images.photo("JPEG", size=(2400, 1350))
    page.get_by_label("Upload an image").set_input_files(
        files=FilePayload(name="coats.jpg", mimeType="image/jpeg", buffer=photo)
    )
    page.get_by_role("button", name="Save cover").click()
    expect(page.get_by_text("Cover saved.")).to_be_visible()
    current = page.locator("#current-cover")
    expect(current).to_have_attribute("alt", ALT)
    assert current.evaluate("img => img.complete && img.naturalWidth") == 480
    page.screenshot(path=str(screenshots_dir() / "dashboard-cover-phone.png"), full_page=True)
    return slug, api_key


def go_live(server: LiveServer, api_key: str) -> None:
    TestMemberJourney.verify_organisation(server, api_key)
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=server.base_url) as client:
        campaign = client.get("/api/v1/campaigns", headers=headers).json()["data"][0]
        assert client.post(f"/api/v1/campaigns/{campaign['id']}/submit", headers=headers).status_code == 200
        admin = {"Authorization": f"Bearer {server.admin_token()}"}
        approved = client.post(f"/api/v1/admin/campaigns/{campaign['id']}/approve", json={}, headers=admin)
        assert approved.status_code == 200, approved.text


@pytest.mark.browser
class TestCoverUpload:
    def test_uploaded_in_the_dashboard_and_shown_to_donors_on_phone_and_desktop(
        self, page: Page, browser: Browser, live_server: LiveServer
    ) -> None:
        slug, api_key = upload_cover_in_dashboard(page, live_server)
        go_live(live_server, api_key)

        for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            phone = size == "phone"
            context = browser.new_context(
                viewport=viewport, device_scale_factor=2 if phone else 1, is_mobile=phone, has_touch=phone
            )
            donor = context.new_page()
            missing: list[str] = []

            def note_missing(response: Response, missing: list[str] = missing) -> None:
                if response.status >= 400:
                    missing.append(response.url)

            donor.on("response", note_missing)
            donor.goto(live_server.url(f"/c/{slug}"))
            donor.wait_for_load_state("networkidle")

            cover = donor.locator("#cover")
            expect(cover).to_have_attribute("alt", ALT)
            expect(cover).to_be_visible()
            chosen = cover.evaluate("img => img.complete && img.naturalWidth > 0 ? img.currentSrc : ''")
            box = cover.bounding_box()
            assert box is not None and box["width"] <= viewport["width"]
            # The browser picked a WebP variant sharp enough for its screen (CSS width times the
            # pixel ratio), never the upload itself.
            picked = re.search(r"/media/covers/[0-9a-f]{64}-(\d+)\.webp$", chosen)
            assert picked is not None, chosen
            assert int(picked.group(1)) >= box["width"] * (2 if phone else 1), (chosen, box)
            expect(donor.locator("#verified-badge")).to_be_visible()
            expect(donor.locator("#org-country")).to_have_text("Ireland")
            expect(donor.locator("#byline")).to_contain_text("Verified nonprofit")
            expect(donor.locator(".site-footer").get_by_role("link", name="Privacy")).to_be_visible()
            expect(donor.locator("#legal-note")).to_be_visible()
            assert donor.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            donor.screenshot(path=str(screenshots_dir() / f"campaign-cover-{size}.png"), full_page=True)

            donor.locator(".site-footer").get_by_role("link", name="Terms").click()
            expect(donor.get_by_role("heading", level=1)).to_have_text("Terms of use")
            donor.screenshot(path=str(screenshots_dir() / f"terms-{size}.png"), full_page=True)
            assert missing == [], missing
            context.close()
