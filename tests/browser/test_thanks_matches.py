"""The match a gift earned appears on the thank-you page after paying, on a phone and a desktop,
and the campaign page's progress block counts it: real sandbox Checkout, signed webhooks, the
worker's processor, the engine. Screenshots go to GOODLOOP_SCREENSHOTS_DIR (default
`.screenshots/`), not committed, for a person to look at."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from service.db import utcnow
from tests import databases
from tests.browser.conftest import PHONE, LiveServer
from tests.browser.screenshots import screenshots_dir
from tests.browser.test_donor_flows import Site, give, run_async
from tests.campaigns.giving.sandboxed import sandbox_settings
from tests.live_server import free_port, serve

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
SHOTS = screenshots_dir()


@pytest.fixture
def site(sqlite_template: Path, tmp_path: Path) -> Iterator[Site]:
    database_url = databases.copy_sqlite_template(sqlite_template, tmp_path)
    port = free_port()
    with serve(sandbox_settings(database_url, tmp_path / "data", port), port=port, run_worker=True) as url:
        yield Site(url=url, database_url=database_url)


def matched_campaign(site: Site) -> str:
    """A live campaign with a 1:1 match from a funded pool and a donor challenge."""
    slug = site.live_campaign(origins=[])

    async def fund() -> None:
        token = LiveServer(site.url, site.database_url).admin_token()
        headers = {"Authorization": f"Bearer {token}"}
        now = utcnow()
        async with httpx.AsyncClient(base_url=site.url, timeout=30) as client:
            for policy, name in (
                ({"policy": "fixed_ratio", "ratio_bps": 10_000}, "Harbor Foundation match"),
                (
                    {
                        "policy": "challenge_unlock",
                        "bonus_minor": 50_000,
                        "target_donors": 12,
                        "deadline": (now + timedelta(days=3)).isoformat(),
                    },
                    "Friday challenge",
                ),
            ):
                response = await client.post(
                    "/api/v1/admin/matching-programs",
                    json={
                        "name": name,
                        "currency": "eur",
                        "budget_minor": 500_000,
                        "starts_at": (now - timedelta(minutes=1)).isoformat(),
                        "ends_at": (now + timedelta(days=5)).isoformat(),
                        "per_donation_cap_minor": 10_000,
                        "hold_days": 7,
                        "verified_nonprofits_only": False,
                        "policy": policy,
                    },
                    headers=headers,
                )
                assert response.status_code == 201, response.text

    run_async(fund)
    return slug


def context_for(browser: Browser, viewport: ViewportSize) -> BrowserContext:
    mobile = viewport == PHONE
    context = browser.new_context(
        viewport=viewport, device_scale_factor=2 if mobile else 1, is_mobile=mobile, has_touch=mobile
    )
    context.set_default_timeout(15_000)
    return context


def watch(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    return errors


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_match_appears_on_the_thank_you_page_after_paying(
    browser: Browser, site: Site, viewport: ViewportSize
) -> None:
    slug = matched_campaign(site)
    size = f"{viewport['width']}x{viewport['height']}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = context_for(browser, viewport)
    page = context.new_page()
    errors = watch(page)

    page.goto(f"{site.url}/c/{slug}")
    expect(page.locator("#percent")).to_have_text("0%")
    expect(page.get_by_text("12 more donors unlock €500.00")).to_be_visible()
    page.screenshot(path=str(SHOTS / f"campaign-before-{size}.png"), full_page=True)
    give(page, site, slug, amount="€25.00")

    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible(timeout=30_000)
    line = page.locator("#match-list li.match-line")
    expect(line).to_have_count(1, timeout=30_000)
    expect(line.locator(".match-program")).to_have_text("Harbor Foundation match")
    expect(line.locator(".match-amount")).to_have_text("+ €25.00")
    expect(line.locator(".match-status")).to_have_text("Matched: waiting for the usual checks")
    page.screenshot(path=str(SHOTS / f"thanks-{size}.png"), full_page=True)

    page.goto(f"{site.url}/c/{slug}")
    expect(page.locator("#raised")).to_have_text("€25.00")
    expect(page.locator("#matched")).to_have_text("€25.00")
    expect(page.locator("#total")).to_have_text("€50.00")
    expect(page.locator("#donor-count")).to_have_text("1 donor")
    expect(page.get_by_text("11 more donors unlock €500.00")).to_be_visible()
    page.screenshot(path=str(SHOTS / f"campaign-after-{size}.png"), full_page=True)
    assert errors == []
    context.close()
