"""Issue #19's accessibility proof: axe-core (the pinned npm package, injected through Playwright;
no network) finds no serious or critical WCAG 2.0/2.1/2.2 A or AA violation on every page group,
in Dutch and in English, served by the real app with its Stripe sandbox and worker on seeded
data: the donor's pages, the donor portal, the members' dashboard and the admin console.

Every violation (moderate and minor too) is printed so it can be fixed: run with `-s`."""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, BrowserContext, Page, expect
from playwright.sync_api import Error as PlaywrightError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from campaigns.fundraising import access
from campaigns.fundraising import service as fundraising
from campaigns.fundraising.models import FundraiserTeam, LinkPurpose
from campaigns.fundraising.starting import NewFundraiser, TeamChoice
from campaigns.matching.models import Match
from campaigns.portal import signin
from service.auth.admins import create_admin, set_admin_password
from service.auth.models import AdminRole
from service.db import Database, utcnow
from service.settings import SANDBOX_API_KEY, SANDBOX_PATH
from tests import builders, databases
from tests.browser.axe import PHONE, audit_context, axe_script, report, run_axe, script_route
from tests.browser.test_donor_flows import run_async
from tests.campaigns.giving.sandboxed import sandbox_settings
from tests.live_server import free_port, serve, serve_asgi

ADMIN_PASSWORD = "a long admin passphrase"
DONOR = "ada.lovelace@example.org"
LANGUAGES = ("en", "nl")


@dataclass(frozen=True)
class Scene:
    url: str
    database_url: str
    org: builders.Org
    admin_email: str
    slug: str
    campaign_id: str
    thanks_path: str
    match_id: uuid.UUID
    host_url: str
    fundraiser_slug: str
    team_slug: str
    fundraiser_id: uuid.UUID

    @property
    def axe_url(self) -> str:
        return f"{self.host_url}/axe.min.js"

    def db(self) -> Database:
        return Database.from_url(self.database_url)


async def _give(http: httpx.AsyncClient, slug: str, *, amount_minor: int, email: str) -> str:
    """A paid gift through the public checkout and the sandbox; returns its thank-you path."""
    started = await http.post(
        f"/api/v1/public/campaigns/{slug}/checkout",
        json={"amount_minor": amount_minor, "currency": "eur", "email": email},
    )
    assert started.status_code == 201, started.text
    found = re.search(r"(cs_test_[A-Za-z0-9]+)", started.json()["checkout_url"])
    assert found is not None
    session_id = found.group(1)
    paid = await http.post(f"{SANDBOX_PATH}/_control/sessions/{session_id}/pay", json={})
    assert paid.status_code == 200, paid.text
    retrieved = await http.get(
        f"{SANDBOX_PATH}/v1/checkout/sessions/{session_id}",
        headers={"Authorization": f"Bearer {SANDBOX_API_KEY}"},
    )
    success_url = str(retrieved.json()["success_url"]).replace("{CHECKOUT_SESSION_ID}", session_id)
    return success_url.removeprefix(str(http.base_url).rstrip("/"))


async def _wait_for_match(database: Database) -> uuid.UUID:
    for _ in range(150):
        async with database.transaction() as session:
            match_id = await session.scalar(sa.select(Match.id).limit(1))
        if match_id is not None:
            return match_id
        await asyncio.sleep(0.2)
    raise AssertionError("no match after 30 s")


def host_page(base: str) -> Starlette:
    """A nonprofit's own site with the embed in an iframe, in the visitor's language."""

    async def page(request: Request) -> HTMLResponse:
        slug = request.query_params["slug"]
        lang = "nl" if request.query_params.get("lang") == "nl" else "en"
        return HTMLResponse(
            f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>Harbor Relief</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
            f"<body><main><h1>Harbor Relief</h1>"
            f'<iframe src="{base}/embed/{slug}?lang={lang}" title="Donate to Harbor Relief" '
            'style="width:100%;height:900px;border:0"></iframe></main></body></html>'
        )

    # The nonprofit's site also serves the audit its axe-core (tests/browser/axe.py).
    return Starlette(routes=[Route("/", page), script_route()])


async def _fundraiser(database: Database, campaign_slug: str) -> tuple[str, str, uuid.UUID]:
    """A live fundraiser page in a new team, its email confirmed as the emailed link would."""
    async with database.transaction() as session:
        started = await fundraising.start_fundraiser(
            session,
            campaign_slug=campaign_slug,
            data=NewFundraiser(
                name="Ada Lovelace",
                email="ada.runs@example.org",
                title="Ada runs 10 km for warm coats",
                story_markdown="I run because every child deserves a **warm** coat.",
                goal_minor=50_000,
                team=TeamChoice(create_name="Harbor Runners"),
                language="en",
            ),
        )
        issued = await access.issue_link(
            session,
            purpose=LinkPurpose.CONFIRM,
            campaign_id=started.campaign_id,
            email=started.email,
            language="en",
            fundraiser_id=started.id,
        )
    async with database.transaction() as session:
        confirmed = await fundraising.confirm_email(session, token=issued.token)
        assert confirmed is not None
        team = await session.get(FundraiserTeam, confirmed.fundraiser.team_id)
        assert team is not None
        return confirmed.fundraiser.slug, team.slug, confirmed.fundraiser.id


async def _build(url: str, database_url: str, host_url: str) -> Scene:
    database = Database.from_url(database_url)
    try:
        async with database.transaction() as session:
            admin_email = f"admin-{uuid.uuid4().hex[:6]}@goodloop.org"
            created = await create_admin(session, email=admin_email, role=AdminRole.SUPERADMIN)
            await set_admin_password(session, email=admin_email, password=ADMIN_PASSWORD)
        admin = builders.AdminUser(id=created.admin.id, email=admin_email, token=created.token)
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            org = await builders.sign_up(http)
            await builders.verify(http, admin, org)
            campaign = await builders.live_campaign(
                http, org, admin, allowed_embed_origins=[host_url], fundraisers_enabled=True
            )
            program = await http.post(
                "/api/v1/admin/matching-programs",
                json={
                    "name": "Winter match",
                    "currency": "eur",
                    "budget_minor": 100_000,
                    "starts_at": (utcnow() - timedelta(minutes=1)).isoformat(),
                    "ends_at": (utcnow() + timedelta(days=30)).isoformat(),
                    "hold_days": 0,
                    "review_threshold_minor": 100,
                    "policy": {"policy": "fixed_ratio", "ratio_bps": 10_000},
                },
                headers=admin.headers,
            )
            assert program.status_code == 201, program.text
            thanks_path = await _give(http, campaign["slug"], amount_minor=2_500, email=DONOR)
        match_id = await _wait_for_match(database)
        fundraiser_slug, team_slug, fundraiser_id = await _fundraiser(database, campaign["slug"])
        return Scene(
            url=url,
            database_url=database_url,
            org=org,
            admin_email=admin_email,
            slug=campaign["slug"],
            campaign_id=campaign["id"],
            thanks_path=thanks_path,
            match_id=match_id,
            host_url=host_url,
            fundraiser_slug=fundraiser_slug,
            team_slug=team_slug,
            fundraiser_id=fundraiser_id,
        )
    finally:
        await database.dispose()


@pytest.fixture(scope="module")
def scene(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    folder = tmp_path_factory.mktemp("a11y")
    database_url = databases.copy_sqlite_template(sqlite_template, folder)
    port = free_port()
    with (
        serve(sandbox_settings(database_url, folder / "data", port), port=port, run_worker=True) as url,
        serve_asgi(host_page(f"http://127.0.0.1:{port}")) as host_url,
    ):
        yield run_async(lambda: _build(url, database_url, host_url))


def _portal_link(scene: Scene) -> str:
    async def issue() -> str:
        database = scene.db()
        try:
            async with database.transaction() as session:
                issued = await signin.issue_link(session, email=DONOR, language="en")
            return issued.token
        finally:
            await database.dispose()

    return run_async(issue)


def _sign_in(page: Page, login_url: str, *, email: str, password: str) -> None:
    page.goto(login_url)
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state("load")
    assert "/login" not in page.url, f"signing in at {login_url} failed"


@dataclass
class Visitors:
    donor: BrowserContext
    member: BrowserContext
    admin: BrowserContext
    portal: BrowserContext
    desktop: BrowserContext


@pytest.fixture(scope="module")
def visitors(browser: Browser, scene: Scene) -> Iterator[Visitors]:
    made = Visitors(
        donor=audit_context(browser),
        member=audit_context(browser),
        admin=audit_context(browser, {"width": 1280, "height": 900}),
        portal=audit_context(browser),
        desktop=audit_context(browser, {"width": 1280, "height": 900}),
    )
    try:
        page = made.member.new_page()
        _sign_in(page, scene.url + "/dashboard/login", email=scene.org.email, password=builders.PASSWORD)
        page.close()
        page = made.admin.new_page()
        _sign_in(page, scene.url + "/admin/login", email=scene.admin_email, password=ADMIN_PASSWORD)
        page.close()
        page = made.portal.new_page()
        page.goto(f"{scene.url}/donor/sign-in/{_portal_link(scene)}")
        page.locator("main form button[type=submit]").first.click()
        expect(page).to_have_url(scene.url + "/donor")
        page.close()
        yield made
    finally:
        for context in (made.donor, made.member, made.admin, made.portal, made.desktop):
            context.close()


def with_lang(path: str, lang: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}lang={lang}"


def visit(path: Callable[[Scene], str], status: int = 200) -> Callable[[Page, Scene, str], None]:
    def go(page: Page, scene: Scene, lang: str) -> None:
        response = page.goto(scene.url + with_lang(path(scene), lang))
        assert response is not None, page.url
        # Audit the page itself, not an error page in its place.
        assert response.status == status, f"{page.url} answered {response.status}, not {status}"
        page.wait_for_load_state("load")

    return go


def embed_in_site(page: Page, scene: Scene, lang: str) -> None:
    page.goto(f"{scene.host_url}/?slug={scene.slug}&lang={lang}")
    expect(page.frame_locator("iframe").locator("#donate-form")).to_be_visible()


def fundraiser_start_with_errors(page: Page, scene: Scene, lang: str) -> None:
    page.goto(scene.url + with_lang(f"/c/{scene.slug}/fundraisers/new", lang))
    page.locator("main form button[type=submit]").last.click()
    expect(page.locator("[aria-invalid=true]").first).to_be_visible()


def campaign_form_with_errors(page: Page, scene: Scene, lang: str) -> None:
    page.goto(scene.url + with_lang("/dashboard/campaigns/new", lang))
    page.locator("input[name=goal]").fill("12,345.678")
    page.locator("button[name=intent][value=save]").click()
    expect(page.locator("[aria-invalid=true]").first).to_be_visible()


def report_form_with_errors(page: Page, scene: Scene, lang: str) -> None:
    page.goto(scene.url + with_lang(f"/c/{scene.slug}/report", lang))
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state("load")


# (name, who visits, how the page is opened)
PAGES: list[tuple[str, str, Callable[[Page, Scene, str], None]]] = [
    ("campaign", "donor", visit(lambda s: f"/c/{s.slug}")),
    ("campaign-desktop", "desktop", visit(lambda s: f"/c/{s.slug}")),
    ("thanks-desktop", "desktop", visit(lambda s: s.thanks_path)),
    ("fundraiser-desktop", "desktop", visit(lambda s: f"/c/{s.slug}/f/{s.fundraiser_slug}")),
    ("embed", "donor", visit(lambda s: f"/embed/{s.slug}")),
    ("embed-in-site", "donor", embed_in_site),
    ("thanks", "donor", visit(lambda s: s.thanks_path)),
    ("fundraiser", "donor", visit(lambda s: f"/c/{s.slug}/f/{s.fundraiser_slug}")),
    ("team", "donor", visit(lambda s: f"/c/{s.slug}/t/{s.team_slug}")),
    ("fundraiser-report", "donor", visit(lambda s: f"/c/{s.slug}/f/{s.fundraiser_slug}/report")),
    ("fundraiser-start", "donor", visit(lambda s: f"/c/{s.slug}/fundraisers/new")),
    ("fundraiser-start-errors", "donor", fundraiser_start_with_errors),
    ("fundraiser-manage-sign-in", "donor", visit(lambda s: f"/c/{s.slug}/fundraisers/manage")),
    ("supporters", "donor", visit(lambda s: f"/c/{s.slug}/supporters")),
    ("updates", "donor", visit(lambda s: f"/c/{s.slug}/updates")),
    ("report", "donor", visit(lambda s: f"/c/{s.slug}/report")),
    ("report-errors", "donor", report_form_with_errors),
    ("privacy", "donor", visit(lambda s: "/privacy")),
    ("terms", "donor", visit(lambda s: "/terms")),
    ("portal-sign-in", "donor", visit(lambda s: "/donor")),
    ("portal-sent", "donor", visit(lambda s: "/donor/sent")),
    ("portal-link", "donor", visit(lambda s: f"/donor/sign-in/{_portal_link(s)}")),
    ("portal-gifts", "portal", visit(lambda s: "/donor")),
    ("not-found", "donor", visit(lambda s: "/c/no-such-campaign", 404)),
    ("dashboard-welcome", "donor", visit(lambda s: "/")),
    ("dashboard-sign-up", "donor", visit(lambda s: "/signup")),
    ("dashboard-login", "donor", visit(lambda s: "/dashboard/login")),
    ("dashboard-forgot-password", "donor", visit(lambda s: "/dashboard/forgot-password")),
    ("dashboard-home", "member", visit(lambda s: "/dashboard")),
    ("dashboard-campaigns", "member", visit(lambda s: "/dashboard/campaigns")),
    ("dashboard-campaign", "member", visit(lambda s: f"/dashboard/campaigns/{s.campaign_id}")),
    ("dashboard-campaign-edit", "member", visit(lambda s: f"/dashboard/campaigns/{s.campaign_id}/edit")),
    ("dashboard-campaign-form-errors", "member", campaign_form_with_errors),
    ("dashboard-messages", "member", visit(lambda s: f"/dashboard/campaigns/{s.campaign_id}/messages")),
    ("dashboard-updates", "member", visit(lambda s: f"/dashboard/campaigns/{s.campaign_id}/updates")),
    ("dashboard-fundraisers", "member", visit(lambda s: "/dashboard/fundraisers")),
    (
        "dashboard-campaign-fundraisers",
        "member",
        visit(lambda s: f"/dashboard/campaigns/{s.campaign_id}/fundraisers"),
    ),
    ("dashboard-fundraiser", "member", visit(lambda s: f"/dashboard/fundraisers/{s.fundraiser_id}")),
    ("dashboard-fundraiser-end", "member", visit(lambda s: f"/dashboard/fundraisers/{s.fundraiser_id}/end")),
    ("dashboard-members", "member", visit(lambda s: "/dashboard/members")),
    ("dashboard-api-keys", "member", visit(lambda s: "/dashboard/api-keys")),
    ("dashboard-matches", "member", visit(lambda s: "/dashboard/matches")),
    ("dashboard-webhooks", "member", visit(lambda s: "/dashboard/webhooks")),
    ("dashboard-recurring", "member", visit(lambda s: "/dashboard/recurring")),
    ("dashboard-notifications", "member", visit(lambda s: "/dashboard/notifications")),
    ("dashboard-tax-profile", "member", visit(lambda s: "/dashboard/tax-profile")),
    ("dashboard-password", "member", visit(lambda s: "/dashboard/password")),
    ("console-login", "donor", visit(lambda s: "/admin/login")),
    ("console-forgot-password", "donor", visit(lambda s: "/admin/forgot-password")),
    ("console-overview", "admin", visit(lambda s: "/admin")),
    ("console-campaigns", "admin", visit(lambda s: "/admin/campaigns")),
    ("console-review-queue", "admin", visit(lambda s: "/admin/matches")),
    ("console-fundraisers", "admin", visit(lambda s: "/admin/fundraisers")),
    ("console-review-detail", "admin", visit(lambda s: f"/admin/matches/{s.match_id}")),
    ("console-audit-log", "admin", visit(lambda s: "/admin/audit-log")),
    ("console-nonprofits", "admin", visit(lambda s: "/admin/nonprofits")),
    ("console-finance", "admin", visit(lambda s: "/admin/finance")),
    ("console-risk", "admin", visit(lambda s: "/admin/risk")),
]


@pytest.mark.browser
class TestNoSeriousViolations:
    @pytest.mark.parametrize("lang", LANGUAGES)
    @pytest.mark.parametrize(("name", "who", "open_page"), PAGES, ids=[p[0] for p in PAGES])
    def test_page_in_each_language(
        self,
        visitors: Visitors,
        scene: Scene,
        name: str,
        who: str,
        open_page: Callable[[Page, Scene, str], None],
        lang: str,
    ) -> None:
        page: Page = getattr(visitors, who).new_page()
        try:
            open_page(page, scene, lang)
            # <html lang> names the language the text is in (WCAG 3.1.1); the console is English only.
            written_in = "en" if name.startswith("console") else lang
            assert page.evaluate("document.documentElement.lang") == written_in, page.url
            # A repeated id points a label, aria-describedby or skip link at the wrong element.
            repeated: list[str] = page.evaluate(
                """() => { const seen = {}; for (const el of document.querySelectorAll('[id]'))
                    seen[el.id] = (seen[el.id] || 0) + 1;
                    return Object.keys(seen).filter(id => seen[id] > 1); }"""
            )
            assert repeated == [], f"{name} ({lang}): ids used more than once: {repeated}"
            violations = run_axe(page, scene.axe_url)
            print(report(f"{name} ({lang}) {page.url}", violations))
            blocking = [v for v in violations if v.blocking]
            assert not blocking, report(f"{name} ({lang})", blocking)
        finally:
            page.close()


# Everything a finger or a pointer can act on. A radio or checkbox drawn inside its label is
# measured as the label (the whole label is the target); inline links inside running text are
# excepted, as WCAG 2.5.8 allows.
TARGETS = """() => {
    const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, ' +
        '[role=button], [role=tab], [tabindex]:not([tabindex="-1"])';
    const inline = (el) => {
        if (el.tagName !== 'A' || getComputedStyle(el).display !== 'inline') return false;
        const block = el.parentElement.closest('p, li, dd, td, blockquote, figcaption, div');
        if (!block) return false;
        const own = (el.textContent || '').trim().length;
        return (block.textContent || '').trim().length > own + 2;
    };
    const small = [];
    for (const el of document.querySelectorAll(selector)) {
        if (el.closest('[hidden], [aria-hidden=true]') || el.disabled) continue;
        const style = getComputedStyle(el);
        if (style.visibility === 'hidden' || style.display === 'none') continue;
        const choice = el.tagName === 'INPUT' && ['radio', 'checkbox'].includes(el.type);
        const label = choice ? el.closest('label') : null;
        const box = (label || el).getBoundingClientRect();
        if (box.width === 0 && box.height === 0) continue;
        if (el.tagName === 'INPUT' && box.width < 2 && box.height < 2) continue;
        if (inline(el)) continue;
        if (box.width + 0.5 < 24 || box.height + 0.5 < 24) {
            const size = `${box.width.toFixed(1)}x${box.height.toFixed(1)}`;
            small.push(`${(label || el).outerHTML.slice(0, 120)} is ${size}`);
        }
    }
    return small;
}"""

# Text that does not fit its box at 390 px runs into its neighbour or is cut off (reflow, WCAG
# 1.4.10): Dutch words are longer than English ones.
OVERFLOWING = """() => {
    const found = [];
    for (const el of document.querySelectorAll('label, button, .button, a, th, td, legend, h1, h2, h3, p')) {
        const style = getComputedStyle(el);
        // Visually hidden text (1px, clipped) is for screen readers only.
        if (style.display === 'inline' || el.closest('[hidden]') || el.clientWidth <= 1) continue;
        if (el.closest('pre, .code-block, [tabindex="0"]')) continue;
        if (el.scrollWidth > el.clientWidth + 1) {
            found.push(`${el.outerHTML.slice(0, 100)}: ${el.scrollWidth}px of text in ${el.clientWidth}px`);
        }
    }
    return found;
}"""

# The embed is measured on its own page; the host page around it is not ours.
DONOR_PAGES = [
    p
    for p in PAGES
    if p[1] in ("donor", "portal") and not p[0].startswith(("console", "dashboard", "embed-in-site"))
]


@pytest.mark.browser
class TestTapTargets:
    @pytest.mark.parametrize(("name", "who", "open_page"), DONOR_PAGES, ids=[p[0] for p in DONOR_PAGES])
    def test_every_target_is_at_least_24_px_and_no_text_overflows_on_a_phone(
        self,
        visitors: Visitors,
        scene: Scene,
        name: str,
        who: str,
        open_page: Callable[[Page, Scene, str], None],
    ) -> None:
        page: Page = getattr(visitors, who).new_page()
        try:
            open_page(page, scene, "nl")
            small: list[str] = page.evaluate(TARGETS)
            assert small == [], f"{name}: targets under 24x24 px at 390x844:\n" + "\n".join(small)
            overflowing: list[str] = page.evaluate(OVERFLOWING)
            assert overflowing == [], f"{name}: text wider than its box at 390 px:\n" + "\n".join(overflowing)
        finally:
            page.close()


@pytest.mark.browser
class TestLiveProgress:
    def test_a_new_gift_is_announced_politely_and_nothing_moves_for_reduced_motion(
        self, browser: Browser, scene: Scene
    ) -> None:
        context = browser.new_context(viewport=PHONE, reduced_motion="reduce")
        context.set_default_timeout(15_000)
        try:
            page = context.new_page()
            page.goto(f"{scene.url}/c/{scene.slug}?lang=nl")
            announce = page.locator("#progress-announce")
            expect(announce).to_have_attribute("aria-live", "polite")
            expect(page.locator("article.campaign")).to_have_attribute("data-live-state", "open")
            before = page.locator("#total").inner_text()

            async def another_gift() -> None:
                async with httpx.AsyncClient(base_url=scene.url, timeout=30) as http:
                    await _give(http, scene.slug, amount_minor=1_000, email="grace@example.org")

            run_async(another_gift)
            expect(page.locator("#total")).not_to_have_text(before, timeout=30_000)
            # One short sentence for screen readers, in the page's language, not every digit.
            expect(announce).not_to_be_empty(timeout=30_000)
            assert page.locator("[aria-live=assertive], [role=alert]").count() == 0
            moving: list[str] = page.evaluate(
                """() => document.getAnimations()
                    .filter(a => a.playState === 'running')
                    .map(a => (a.effect && a.effect.target ? a.effect.target.outerHTML.slice(0, 80) : '?'))"""
            )
            assert moving == [], f"animations run although the reader asked for reduced motion: {moving}"
        finally:
            context.close()


@pytest.mark.browser
class TestTheAuditSeesViolations:
    """The audit can fail: a field without a label, on the page and inside the embed's frame,
    is reported as critical."""

    UNLABELLED = "() => document.querySelector('main').insertAdjacentHTML('beforeend', '<input type=text>')"

    def test_an_unlabelled_field_on_the_page(self, visitors: Visitors, scene: Scene) -> None:
        page = visitors.donor.new_page()
        try:
            visit(lambda s: "/privacy")(page, scene, "en")
            page.evaluate(self.UNLABELLED)
            found = {(v.rule, v.impact) for v in run_axe(page, scene.axe_url)}
            assert ("label", "critical") in found, found
        finally:
            page.close()

    def test_an_unlabelled_field_inside_the_embed_frame(self, visitors: Visitors, scene: Scene) -> None:
        page = visitors.donor.new_page()
        try:
            embed_in_site(page, scene, "en")
            frame = next(f for f in page.frames if "/embed/" in f.url)
            frame.evaluate(self.UNLABELLED)
            found = {(v.rule, v.impact) for v in run_axe(page, scene.axe_url)}
            assert ("label", "critical") in found, found
        finally:
            page.close()

    def test_the_pages_csp_refuses_the_injected_script_outside_the_audit_context(
        self, browser: Browser, scene: Scene
    ) -> None:
        """Why the audit context bypasses the CSP: our pages run no inline script, not even axe."""
        context = browser.new_context(viewport=PHONE)
        try:
            page = context.new_page()
            page.goto(scene.url + "/privacy")
            with contextlib.suppress(PlaywrightError):  # refused outright, or loaded and not run
                page.add_script_tag(path=str(axe_script()))
            assert page.evaluate("typeof window.axe") == "undefined"
        finally:
            context.close()
