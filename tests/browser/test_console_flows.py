"""The review and payout journey in headless Chromium, against the app with its Stripe sandbox
and worker: an admin signs in, opens a flagged match, reads why, approves it; a large match
takes two different admins; the approved matches go out as Stripe Transfers (seen in the
sandbox through the real SDK); another match is rejected, its nonprofit appeals in the
dashboard; the audit log shows every step."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import sqlalchemy as sa
import stripe
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from campaigns.matching import lifecycle
from campaigns.matching.models import Match, MatchStatus
from campaigns.nonprofits.models import Nonprofit
from campaigns.payouts.models import Payout
from service.auth.admins import create_admin, set_admin_password
from service.auth.models import AdminRole
from service.db import Database, utcnow
from service.settings import SANDBOX_API_KEY, SANDBOX_PATH
from tests import builders, databases
from tests.campaigns.giving.sandboxed import sandbox_settings
from tests.live_server import free_port, serve

T = TypeVar("T")
ADMIN_PASSWORD = "a long admin passphrase"
CARDS = ("4242424242424242", "5555555555554444", "4000056655665556")


def run_async(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    # Playwright's sync API keeps an event loop running on this thread; use another one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, make()).result()


@dataclass
class Staff:
    email: str
    token: str


@dataclass
class Scene:
    url: str
    database_url: str
    org: builders.Org
    first: Staff
    second: Staff
    small: uuid.UUID
    large: uuid.UUID
    doubtful: uuid.UUID
    account_id: str

    def stripe(self) -> stripe.StripeClient:
        base = self.url + SANDBOX_PATH
        return stripe.StripeClient(
            SANDBOX_API_KEY,
            base_addresses={"api": base, "connect": base, "files": base},
            http_client=stripe.HTTPXClient(allow_sync_methods=True),
            max_network_retries=0,
        )

    def db(self, work: Callable[[Database], Coroutine[Any, Any, T]]) -> T:
        async def go() -> T:
            database = Database.from_url(self.database_url)
            try:
                return await work(database)
            finally:
                await database.dispose()

        return run_async(go)

    def payout(self, match_id: uuid.UUID) -> Payout | None:
        async def load(database: Database) -> Payout | None:
            async with database.transaction() as session:
                found: Payout | None = await session.scalar(
                    sa.select(Payout).where(Payout.match_id == match_id)
                )
                return found

        return self.db(load)

    def match_status(self, match_id: uuid.UUID) -> MatchStatus:
        async def load(database: Database) -> MatchStatus:
            async with database.transaction() as session:
                status = await session.scalar(sa.select(Match.status).where(Match.id == match_id))
            assert status is not None
            return status

        return self.db(load)


async def _staff(database: Database, role: AdminRole) -> Staff:
    email = f"{role.value}-{uuid.uuid4().hex[:6]}@goodloop.org"
    async with database.transaction() as session:
        created = await create_admin(session, email=email, role=role)
        await set_admin_password(session, email=email, password=ADMIN_PASSWORD)
    return Staff(email=email, token=created.token)


def _auth(staff: Staff) -> dict[str, str]:
    return {"Authorization": f"Bearer {staff.token}"}


async def _build(url: str, database_url: str) -> Scene:
    database = Database.from_url(database_url)
    try:
        first = await _staff(database, AdminRole.REVIEWER)
        second = await _staff(database, AdminRole.SUPERADMIN)
        finance = await _staff(database, AdminRole.FINANCE)
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            admin = builders.AdminUser(id=uuid.uuid4(), email=second.email, token=second.token)
            org = await builders.sign_up(http)
            await builders.verify(http, admin, org)
            campaign = await builders.live_campaign(http, org, admin)
            account_id = await _connect(http, url, database, org)
            # Probation weighs enough to hold every match of this new nonprofit for a person.
            heavier = await http.patch(
                "/api/v1/admin/risk-signals/new_nonprofit",
                json={"weight": 100, "threshold": 30},
                headers=_auth(second),
            )
            assert heavier.status_code == 200, heavier.text
            program = await http.post(
                "/api/v1/admin/matching-programs",
                json={
                    "name": "Winter match",
                    "currency": "eur",
                    "budget_minor": 100_000,
                    "starts_at": (utcnow() - timedelta(minutes=1)).isoformat(),
                    "ends_at": (utcnow() + timedelta(days=30)).isoformat(),
                    "hold_days": 0,
                    "review_threshold_minor": 5_000,
                    "policy": {"policy": "fixed_ratio", "ratio_bps": 10_000},
                },
                headers=_auth(finance),
            )
            assert program.status_code == 201, program.text
            for amount, card in zip((2_500, 6_000, 2_000), CARDS, strict=True):
                await _give(http, campaign["slug"], amount_minor=amount, card=card)
        by_amount = await _wait_for_matches(database, count=3)
        async with database.transaction() as session:
            await lifecycle.release_due_matches(session, now=utcnow() + timedelta(seconds=1))
        return Scene(
            url=url,
            database_url=database_url,
            org=org,
            first=first,
            second=second,
            small=by_amount[2_500],
            large=by_amount[6_000],
            doubtful=by_amount[2_000],
            account_id=account_id,
        )
    finally:
        await database.dispose()


async def _connect(http: httpx.AsyncClient, url: str, database: Database, org: builders.Org) -> str:
    """The nonprofit's Express account, onboarded in the sandbox; account.updated makes it ready."""
    base = url + SANDBOX_PATH
    client = stripe.StripeClient(
        SANDBOX_API_KEY,
        base_addresses={"api": base, "connect": base, "files": base},
        http_client=stripe.HTTPXClient(),
        max_network_retries=0,
    )
    account = await client.v1.accounts.create_async(
        {
            "type": "express",
            "country": "IE",
            "capabilities": {"transfers": {"requested": True}, "card_payments": {"requested": True}},
        }
    )
    async with database.transaction() as session:
        await session.execute(
            sa.update(Nonprofit).where(Nonprofit.id == uuid.UUID(org.id)).values(stripe_account_id=account.id)
        )
    onboarded = await http.post(f"{SANDBOX_PATH}/_control/accounts/{account.id}/onboard", json={})
    assert onboarded.status_code == 200, onboarded.text
    deadline = time.monotonic() + 30
    while True:
        async with database.transaction() as session:
            ready = await session.scalar(
                sa.select(Nonprofit.payouts_enabled).where(Nonprofit.id == uuid.UUID(org.id))
            )
        if ready:
            return account.id
        assert time.monotonic() < deadline, "account.updated never made the account ready"
        await asyncio.sleep(0.2)


async def _give(http: httpx.AsyncClient, slug: str, *, amount_minor: int, card: str) -> None:
    started = await http.post(
        f"/api/v1/public/campaigns/{slug}/checkout",
        json={
            "amount_minor": amount_minor,
            "currency": "eur",
            "email": f"donor-{uuid.uuid4().hex[:8]}@example.org",
        },
    )
    assert started.status_code == 201, started.text
    session_id = re.search(r"(cs_test_[A-Za-z0-9]+)", started.json()["checkout_url"])
    assert session_id is not None
    paid = await http.post(
        f"{SANDBOX_PATH}/_control/sessions/{session_id.group(1)}/pay", json={"card_number": card}
    )
    assert paid.status_code == 200, paid.text


async def _wait_for_matches(database: Database, *, count: int) -> dict[int, uuid.UUID]:
    deadline = time.monotonic() + 30
    while True:
        async with database.transaction() as session:
            rows = (await session.execute(sa.select(Match.amount_minor, Match.id))).all()
        if len(rows) >= count:
            return {int(amount): match_id for amount, match_id in rows}
        assert time.monotonic() < deadline, f"only {len(rows)} matches after 30 s"
        await asyncio.sleep(0.2)


@pytest.fixture
def scene(sqlite_template: Path, tmp_path: Path) -> Iterator[Scene]:
    database_url = databases.copy_sqlite_template(sqlite_template, tmp_path)
    port = free_port()
    with serve(sandbox_settings(database_url, tmp_path / "data", port), port=port, run_worker=True) as url:
        yield run_async(lambda: _build(url, database_url))


class Screens:
    """Browser contexts that fail the test on a console error (a CSP violation is one)."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.errors: list[str] = []
        self.contexts: list[BrowserContext] = []

    def open(self) -> Page:
        context = self.browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        page = context.new_page()

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error" and not message.text.startswith("Failed to load resource"):
                self.errors.append(message.text)

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def screens(browser: Browser) -> Iterator[Screens]:
    opened = Screens(browser)
    try:
        yield opened
    finally:
        opened.close()
    assert opened.errors == [], opened.errors


def sign_in(page: Page, scene: Scene, staff: Staff) -> None:
    page.goto(scene.url + "/admin/login")
    page.get_by_label("Email").fill(staff.email)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(scene.url + "/admin")


def open_match(page: Page, scene: Scene, match_id: uuid.UUID) -> None:
    page.goto(scene.url + "/admin/matches")
    page.locator(f"#match-{match_id} a.match-link").click()
    expect(page).to_have_url(f"{scene.url}/admin/matches/{match_id}")


def wait_until(check: Callable[[], bool], what: str, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


@pytest.mark.browser
class TestReviewAndPayoutJourney:
    def test_review_two_person_approval_payout_rejection_appeal_and_audit(
        self, screens: Screens, scene: Scene
    ) -> None:
        admin = screens.open()
        sign_in(admin, scene, scene.first)

        # A flagged match: its reasons in plain words, approved with a note.
        open_match(admin, scene, scene.small)
        expect(admin.locator("#match-status")).to_have_text("held for review")
        expect(admin.locator("#risk-reasons")).to_contain_text("verified less than 30 days ago")
        admin.locator("#approve-note").fill("Known local donor")
        admin.locator("#approve").click()
        expect(admin.locator("#match-status")).to_have_text("approved")

        # A large match: the first approval is recorded, the same person cannot give the second.
        open_match(admin, scene, scene.large)
        expect(admin.locator("#approve")).to_have_text("Approve (first of two)")
        admin.locator("#approve").click()
        expect(admin.locator("#waiting-for-second")).to_be_visible()
        expect(admin.locator("#match-status")).to_have_text("held for review")
        expect(admin.locator("#approve")).to_have_count(0)

        # Another match is rejected with a reason the nonprofit will read.
        open_match(admin, scene, scene.doubtful)
        admin.locator("#reject-note").fill("Gifts came from one office network")
        admin.locator("#reject").click()
        expect(admin.locator("#match-status")).to_have_text("voided")
        admin.locator("#sign-out").click()

        co = screens.open()
        sign_in(co, scene, scene.second)
        open_match(co, scene, scene.large)
        expect(co.locator("#approval-progress")).to_contain_text("1 of 2")
        co.locator("#approve").click()
        expect(co.locator("#match-status")).to_have_text("approved")

        # The worker pays both approved matches out as Stripe Transfers; transfer.created confirms.
        def both_paid() -> bool:
            return all(scene.match_status(m) is MatchStatus.PAID for m in (scene.small, scene.large))

        wait_until(both_paid, "both approved matches to be paid")
        co.goto(scene.url + "/admin/finance")
        for match_id, amount in ((scene.small, 2_500), (scene.large, 6_000)):
            payout = scene.payout(match_id)
            assert payout is not None and payout.stripe_transfer_id is not None
            row = co.locator(f"tr.payout[data-match-id='{match_id}']")
            expect(row).to_contain_text(payout.stripe_transfer_id)
            transfer = scene.stripe().v1.transfers.retrieve(payout.stripe_transfer_id)
            assert (transfer.amount, transfer.currency, transfer.destination) == (
                amount,
                "eur",
                scene.account_id,
            )
            assert transfer.transfer_group == payout.transfer_group
            assert transfer.metadata["match_id"] == str(match_id)

        # The nonprofit reads the rejection and appeals it, once.
        member = screens.open()
        member.goto(scene.url + "/dashboard/login")
        member.get_by_label("Email").fill(scene.org.email)
        member.get_by_label("Password").fill(builders.PASSWORD)
        member.get_by_role("button", name="Sign in").click()
        member.goto(scene.url + "/dashboard/matches")
        rejected = member.locator(f"#match-{scene.doubtful}")
        expect(rejected).to_contain_text("Gifts came from one office network")
        member.locator(f"#appeal-{scene.doubtful}").fill("Our volunteers share that office; each gave once.")
        member.get_by_role("button", name="Send appeal").click()
        expect(member.locator(f"#match-{scene.doubtful}")).to_contain_text(
            "Your appeal returned it to review"
        )
        expect(member.get_by_role("button", name="Send appeal")).to_have_count(0)

        # The appeal is back in the queue with the nonprofit's message.
        open_match(co, scene, scene.doubtful)
        expect(co.locator("#appeal")).to_contain_text("Our volunteers share that office")

        # The audit log tells the whole story.
        co.goto(scene.url + "/admin/audit-log")
        for action, subject in (
            ("match.approved", scene.small),
            ("match.approval_recorded", scene.large),
            ("match.approved", scene.large),
            ("match.paid", scene.small),
            ("match.paid", scene.large),
            ("match.rejected", scene.doubtful),
            ("match.appealed", scene.doubtful),
        ):
            entry = co.locator(f"tr.audit-entry[data-action='{action}'][data-subject='match:{subject}']")
            expect(entry.first).to_be_visible()
        co.screenshot(path="/tmp/goodloop-console-audit.png", full_page=True)
