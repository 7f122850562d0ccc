"""The nonprofit's fundraiser pages (#15) in a real Chromium, in Dutch and English, on a phone
and a desktop screen: the campaign's peer-to-peer settings, the list, one page with its gifts,
the end confirmation, and the console's review queue. They fit the screen and leave
screenshots for a person to look at (tests/browser/screenshots.py)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, ViewportSize, expect

from campaigns.donations.models import Donation, DonationStatus
from campaigns.fundraising.models import Fundraiser, FundraiserStatus
from service.auth.models import AdminRole
from service.db import Database
from service.settings import SANDBOX_PATH
from tests import builders, databases
from tests.browser.screenshots import screenshots_dir
from tests.browser.test_donor_flows import run_async
from tests.campaigns.giving.sandboxed import sandbox_settings
from tests.console.helpers import ADMIN_PASSWORD, insert_console_admin
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
    runner_id: str
    admin_email: str


async def _start(http: httpx.AsyncClient, slug: str, **page: object) -> None:
    response = await http.post(f"/api/v1/public/campaigns/{slug}/fundraisers", json=page)
    assert response.status_code == 202, response.text


async def _give(
    http: httpx.AsyncClient, slug: str, fundraiser: str, email: str, name: str, amount: int
) -> None:
    started = await http.post(
        f"/api/v1/public/campaigns/{slug}/checkout",
        json={
            "amount_minor": amount,
            "currency": "eur",
            "email": email,
            "name": name,
            "fundraiser": fundraiser,
        },
    )
    assert started.status_code == 201, started.text
    found = re.search(r"(cs_test_[A-Za-z0-9]+)", started.json()["checkout_url"])
    assert found is not None
    paid = await http.post(f"{SANDBOX_PATH}/_control/sessions/{found.group(1)}/pay", json={})
    assert paid.status_code == 200, paid.text


async def _set_status(database: Database, slug: str, status: FundraiserStatus, **flags: object) -> Fundraiser:
    # Confirming happens by a link in an email; here the pages are simply put where the test needs them.
    async with database.transaction() as session:
        page = await session.scalar(sa.select(Fundraiser).where(Fundraiser.title.contains(slug)))
        assert page is not None
        page.status = status
        page.confirmed_at = session.now()
        for name, value in flags.items():
            setattr(page, name, value)
        return page


async def _build(url: str, database_url: str) -> Scene:
    database = Database.from_url(database_url)
    try:
        admin = await builders.insert_admin(database, role=AdminRole.SUPERADMIN)
        moderator = await insert_console_admin(database, role=AdminRole.REVIEWER)
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            org = await builders.sign_up(http, country="NL", name="Stichting Warme Jassen")
            await builders.verify(http, admin, org)
            campaign = await builders.live_campaign(http, org, admin, title="Warme jassen voor 300 kinderen")
            patched = await http.patch(
                f"/api/v1/campaigns/{campaign['id']}",
                json={"fundraisers_enabled": True, "fundraisers_need_approval": True},
                headers=org.headers,
            )
            assert patched.status_code == 200, patched.text
            slug = campaign["slug"]
            await _start(
                http,
                slug,
                name="Anna de Vries",
                email="anna@example.org",
                title="Anna loopt 10 km voor warme jassen",
                story="Elke kilometer is een **jas**.",
                goal_minor=50_000,
                team={"create": "Hardlopers Utrecht"},
            )
            await _start(
                http,
                slug,
                name="Piet Jansen",
                email="piet@example.org",
                title="Piet fietst naar Parijs",
                story="Zeg het voort.",
            )
            await _start(
                http,
                slug,
                name="Mo Haddou",
                email="mo@example.org",
                title="Mo streamt 24 uur",
                story="Stuur geld via bank transfer naar mij.",
            )
            runner = await _set_status(database, "Anna loopt", FundraiserStatus.LIVE)
            await _set_status(database, "Piet fietst", FundraiserStatus.PENDING_APPROVAL)
            await _set_status(database, "Mo streamt", FundraiserStatus.HIDDEN)
            for email, name, amount in (
                ("joe@example.org", "Joe Bloggs", 2_500),
                ("eva@example.org", "Eva Smit", 10_000),
                ("sam@example.org", "Sam de Boer", 1_500),
            ):
                await _give(http, slug, runner.slug, email, name, amount)
        for _ in range(150):
            async with database.transaction() as session:
                paid = await session.scalar(
                    sa.select(sa.func.count())
                    .select_from(Donation)
                    .where(Donation.status == DonationStatus.CONFIRMED)
                )
            if paid == 3:
                return Scene(url, org, campaign["id"], str(runner.id), moderator.email)
            await asyncio.sleep(0.2)
        raise AssertionError("the gifts were not confirmed after 30 s")
    finally:
        await database.dispose()


@pytest.fixture(scope="module")
def scene(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    folder = tmp_path_factory.mktemp("fundraisers-dashboard")
    database_url = databases.copy_sqlite_template(sqlite_template, folder)
    port = free_port()
    with serve(sandbox_settings(database_url, folder / "data", port), port=port, run_worker=True) as url:
        yield run_async(lambda: _build(url, database_url))


def sign_in(page: Page, scene: Scene, lang: str) -> None:
    page.goto(f"{scene.url}/dashboard/login?lang={lang}")
    page.locator("input[name=email]").fill(scene.org.email)
    page.locator("input[name=password]").fill(builders.PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state("load")
    assert "/login" not in page.url


def look(page: Page, name: str, lang: str, screen: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", lang)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"
    page.screenshot(path=str(screenshots_dir() / f"fundraisers-{name}-{lang}-{screen}.png"), full_page=True)


WORDS = {
    "nl": {
        "heading": "Inzamelingsacties",
        "live": "Online",
        "waiting": "Wacht op goedkeuring",
        "raised": "€\xa0140,00",
    },
    "en": {"heading": "Fundraisers", "live": "Live", "waiting": "Waiting for approval", "raised": "€140.00"},
}


@pytest.mark.browser
class TestFundraiserPagesForTheNonprofit:
    @pytest.mark.parametrize("screen", sorted(SCREENS))
    @pytest.mark.parametrize("lang", ["en", "nl"])
    def test_settings_list_detail_and_end(
        self, browser: Browser, scene: Scene, lang: str, screen: str
    ) -> None:
        words = WORDS[lang]
        context = browser.new_context(viewport=SCREENS[screen], locale="nl-NL" if lang == "nl" else "en-GB")
        try:
            page = context.new_page()
            sign_in(page, scene, lang)

            page.goto(f"{scene.url}/dashboard/campaigns/{scene.campaign_id}/edit")
            expect(page.locator("#fundraisers_enabled")).to_be_checked()
            expect(page.locator("#default_language")).to_have_value("nl")
            page.locator("#campaign-settings").scroll_into_view_if_needed()
            look(page, "settings", lang, screen)

            page.goto(f"{scene.url}/dashboard/campaigns/{scene.campaign_id}/fundraisers")
            expect(page.get_by_role("heading", name=words["heading"], exact=True)).to_be_visible()
            runner = page.locator(f"#fundraiser-{scene.runner_id}")
            expect(runner).to_contain_text(words["raised"])
            expect(runner).to_contain_text("Hardlopers Utrecht")
            expect(page.locator("tr[data-status=pending_approval]")).to_contain_text(words["waiting"])
            look(page, "list", lang, screen)

            runner.get_by_role("link").first.click()
            expect(page.locator("#fundraiser-totals")).to_contain_text(words["raised"])
            expect(page.locator("#fundraiser-gifts tbody tr")).to_have_count(3)
            look(page, "detail", lang, screen)

            page.locator("#end").click()
            expect(page.locator("#end-confirm")).to_be_visible()
            look(page, "end", lang, screen)
        finally:
            context.close()

    @pytest.mark.parametrize("screen", sorted(SCREENS))
    def test_console_review_queue(self, browser: Browser, scene: Scene, screen: str) -> None:
        context = browser.new_context(viewport=SCREENS[screen])
        try:
            page = context.new_page()
            page.goto(f"{scene.url}/admin/login")
            page.locator("input[name=email]").fill(scene.admin_email)
            page.locator("input[name=password]").fill(ADMIN_PASSWORD)
            page.locator("main form button[type=submit]").first.click()
            page.wait_for_load_state("load")
            page.goto(f"{scene.url}/admin/fundraisers")
            expect(page.get_by_role("heading", name="Fundraiser pages", exact=True)).to_be_visible()
            expect(page.locator("#hidden article")).to_have_count(1)
            look(page, "console", "en", screen)
        finally:
            context.close()
