"""The campaign side of the members' dashboard in Dutch, in a real Chromium on a phone and on a
desktop screen: the pages speak Dutch, fit the screen (Dutch words are longer) and leave
screenshots for a person to look at (tests/browser/screenshots.py)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, ViewportSize, expect

from campaigns.matching.models import Match
from service.auth.models import AdminRole
from service.db import Database, utcnow
from service.settings import SANDBOX_PATH
from tests import builders, databases
from tests.browser.screenshots import screenshots_dir
from tests.browser.test_donor_flows import run_async
from tests.campaigns.giving.sandboxed import sandbox_settings
from tests.live_server import free_port, serve

SCREENS: dict[str, ViewportSize] = {
    "390": {"width": 390, "height": 844},
    "1280": {"width": 1280, "height": 900},
}


@dataclass(frozen=True)
class Scene:
    url: str
    org: builders.Org
    campaign_id: str


async def _give(http: httpx.AsyncClient, slug: str) -> None:
    """A paid EUR 25 gift through the public checkout and the Stripe sandbox."""
    started = await http.post(
        f"/api/v1/public/campaigns/{slug}/checkout",
        json={"amount_minor": 2_500, "currency": "eur", "email": "ada@example.org"},
    )
    assert started.status_code == 201, started.text
    found = re.search(r"(cs_test_[A-Za-z0-9]+)", started.json()["checkout_url"])
    assert found is not None
    paid = await http.post(f"{SANDBOX_PATH}/_control/sessions/{found.group(1)}/pay", json={})
    assert paid.status_code == 200, paid.text


async def _build(url: str, database_url: str) -> Scene:
    """A live campaign with one paid gift whose match waits out its hold."""
    database = Database.from_url(database_url)
    try:
        admin = await builders.insert_admin(database, role=AdminRole.SUPERADMIN)
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            org = await builders.sign_up(http)
            await builders.verify(http, admin, org)
            campaign = await builders.live_campaign(http, org, admin)
            program = await http.post(
                "/api/v1/admin/matching-programs",
                json={
                    "name": "Winter match",
                    "currency": "eur",
                    "budget_minor": 100_000,
                    "starts_at": (utcnow() - timedelta(minutes=1)).isoformat(),
                    "ends_at": (utcnow() + timedelta(days=30)).isoformat(),
                    "hold_days": 7,
                    "policy": {"policy": "fixed_ratio", "ratio_bps": 10_000},
                },
                headers=admin.headers,
            )
            assert program.status_code == 201, program.text
            await _give(http, campaign["slug"])
        for _ in range(150):
            async with database.transaction() as session:
                if await session.scalar(sa.select(Match.id).limit(1)) is not None:
                    return Scene(url=url, org=org, campaign_id=campaign["id"])
            await asyncio.sleep(0.2)
        raise AssertionError("no match after 30 s")
    finally:
        await database.dispose()


@pytest.fixture(scope="module")
def scene(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    folder = tmp_path_factory.mktemp("dashboard-nl")
    database_url = databases.copy_sqlite_template(sqlite_template, folder)
    port = free_port()
    with serve(sandbox_settings(database_url, folder / "data", port), port=port, run_worker=True) as url:
        yield run_async(lambda: _build(url, database_url))


def sign_in_in_dutch(page: Page, scene: Scene) -> None:
    page.goto(scene.url + "/dashboard/login?lang=nl")
    page.locator("input[name=email]").fill(scene.org.email)
    page.locator("input[name=password]").fill(builders.PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state("load")
    assert "/login" not in page.url


def look(page: Page, name: str, screen: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"
    page.screenshot(path=str(screenshots_dir() / f"dashboard-{name}-nl-{screen}.png"), full_page=True)


@pytest.mark.browser
class TestCampaignSideInDutch:
    @pytest.mark.parametrize("screen", sorted(SCREENS))
    def test_campaigns_campaign_form_and_matches(self, browser: Browser, scene: Scene, screen: str) -> None:
        context = browser.new_context(viewport=SCREENS[screen], locale="nl-NL")
        try:
            page = context.new_page()
            sign_in_in_dutch(page, scene)

            page.goto(scene.url + "/dashboard/campaigns")
            expect(page.get_by_role("heading", name="Campagnes", exact=True)).to_be_visible()
            expect(page.locator("#campaigns .status").first).to_have_text("live")
            look(page, "campaigns", screen)

            page.goto(f"{scene.url}/dashboard/campaigns/{scene.campaign_id}")
            expect(page.get_by_role("heading", name="Delen en insluiten")).to_be_visible()
            expect(page.get_by_role("button", name="Donaties pauzeren")).to_be_visible()
            expect(page.locator("dl.facts")).to_contain_text("€\xa05.000,00")
            look(page, "campaign", screen)

            page.goto(scene.url + "/dashboard/campaigns/new")
            page.get_by_label("Titel").fill("")
            page.get_by_label("Doel", exact=True).fill("2500.50")
            page.get_by_role("button", name="Concept opslaan").click()
            expect(page.locator("#title-error")).to_have_text("Dit veld is verplicht.")
            expect(page.locator("#goal-error")).to_have_text("Gebruik een komma voor de centen, zoals 12,50.")
            expect(page.get_by_role("alert").first).to_be_visible()
            look(page, "campaign-form-errors", screen)

            page.goto(scene.url + "/dashboard/matches")
            expect(page.get_by_role("heading", name="Verdubbelingen", exact=True)).to_be_visible()
            expect(page.locator("#matches .status").first).to_have_text("gereserveerd")
            expect(page.locator(".match-reason").first).to_contain_text(
                "Voor je gereserveerd; na de wachttijd"
            )
            look(page, "matches", screen)

            page.goto(f"{scene.url}/dashboard/campaigns/{scene.campaign_id}/updates")
            page.locator("#update-body").fill("Dankzij jullie hebben **300 kinderen** een warme jas.")
            page.get_by_role("button", name="Update plaatsen").click()
            expect(page.locator(".flash")).to_contain_text("Update geplaatst.")
            look(page, "updates", screen)

            page.goto(f"{scene.url}/dashboard/campaigns/{scene.campaign_id}/messages")
            expect(page.get_by_role("navigation", name="Berichten filteren")).to_be_visible()
            look(page, "messages", screen)
        finally:
            context.close()
