"""Sharing in headless Chromium, on a phone and on a desktop: after a sandbox payment confirmed
by a signed webhook, the thank-you page's share links carry the donor's link and words naming
the campaign and its match, Copy puts the link on the clipboard, "Share…" appears only where the
browser can share, the QR code encodes the link, and the campaign's og:image is a 1200x630 PNG.
Secrets shown once in the dashboard are readable and copy too."""

from __future__ import annotations

import base64
import io
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
import segno
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from service.auth.admins import create_admin
from service.auth.models import AdminRole
from service.db import Database
from tests import builders, databases
from tests.browser.conftest import PHONE
from tests.browser.test_donor_flows import Site, give, run_async
from tests.campaigns.giving.qr_matrix import dark_modules, matrix_modules
from tests.campaigns.giving.sandboxed import sandbox_settings
from tests.campaigns.matching.helpers import program_payload
from tests.live_server import free_port, serve

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
SIZES = {"phone": PHONE, "desktop": DESKTOP}
CHANNELS = ["whatsapp", "telegram", "x", "facebook", "linkedin", "email"]
TITLE = "Winter coats for 300 kids"
# Chromium on Linux has no Web Share: make sure of it, whatever the build, for the "absent" case.
NO_WEB_SHARE = "delete Navigator.prototype.share; delete Navigator.prototype.canShare;"
# A share sheet that remembers what it was asked to share.
FAKE_WEB_SHARE = (
    "Navigator.prototype.share = function (data) { window.__shared = data; return Promise.resolve(); };"
)


@pytest.fixture
def site(sqlite_template: Path, tmp_path: Path) -> Iterator[Site]:
    database_url = databases.copy_sqlite_template(sqlite_template, tmp_path)
    port = free_port()
    with serve(sandbox_settings(database_url, tmp_path / "data", port), port=port, run_worker=True) as url:
        yield Site(url=url, database_url=database_url)


def matched_campaign(site: Site) -> str:
    """A live campaign with a live 1:1 matching program, built through the real APIs."""

    async def admin() -> builders.AdminUser:
        db = Database.from_url(site.database_url)
        try:
            async with db.transaction() as session:
                email = f"admin-{uuid.uuid4().hex[:8]}@goodloop.org"
                created = await create_admin(session, email=email, role=AdminRole.SUPERADMIN)
            return builders.AdminUser(id=created.admin.id, email=created.admin.email, token=created.token)
        finally:
            await db.dispose()

    async def build(superadmin: builders.AdminUser) -> str:
        async with httpx.AsyncClient(base_url=site.url, timeout=30) as client:
            org = await builders.sign_up(client)
            await builders.verify(client, superadmin, org)
            campaign = await builders.live_campaign(
                client, org, superadmin, title=TITLE, story="Every child deserves a **warm** coat."
            )
            program = program_payload(name="Winter match", campaign_ids=[campaign["id"]])
            response = await client.post(
                "/api/v1/admin/matching-programs", json=program, headers=superadmin.headers
            )
            assert response.status_code == 201, response.text
            slug: str = campaign["slug"]
            return slug

    superadmin = run_async(admin)
    return run_async(lambda: build(superadmin))


def new_context(browser: Browser, size: str, *, init_script: str) -> BrowserContext:
    phone = size == "phone"
    context = browser.new_context(
        viewport=SIZES[size],
        device_scale_factor=2 if phone else 1,
        is_mobile=phone,
        has_touch=phone,
        permissions=["clipboard-read", "clipboard-write"],
    )
    context.add_init_script(init_script)
    context.set_default_timeout(15_000)
    return context


def said(href: str) -> str:
    """Everything a share link says, decoded: its path and each query value."""
    parts = urlsplit(href)
    return "\n".join([unquote(parts.path), *[v for vs in parse_qs(parts.query).values() for v in vs]])


def contrast(foreground: str, background: str) -> float:
    def luminance(css: str) -> float:
        channels = [int(c) / 255 for c in re.findall(r"\d+", css)[:3]]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def assert_readable(page: Page, selector: str) -> None:
    color, background, size = page.locator(selector).evaluate(
        "e => { const s = getComputedStyle(e); return [s.color, s.backgroundColor, s.fontSize]; }"
    )
    assert contrast(color, background) >= 4.5, (color, background)
    assert float(size.removesuffix("px")) >= 16, size


def assert_copies(page: Page, button: str, field: str) -> None:
    expected = page.locator(field).input_value()
    page.get_by_role("button", name=button).click()
    expect(page.locator(field + "-status")).to_have_text("Copied to the clipboard.")
    expect(page.locator(f"[data-copy-target='{field[1:]}']")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == expected


@pytest.mark.browser
@pytest.mark.parametrize("size", ["phone", "desktop"])
class TestThankYouSharing:
    def test_share_links_copy_qr_and_card(self, browser: Browser, site: Site, size: str) -> None:
        slug = matched_campaign(site)
        context = new_context(browser, size, init_script=NO_WEB_SHARE)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))

        page.goto(f"{site.url}/c/{slug}")
        give(page, site, slug, amount="€25.00")
        expect(page.get_by_role("heading", name="Thank you!")).to_be_visible(timeout=30_000)
        share_url = page.locator("#share-url").input_value()
        assert re.fullmatch(re.escape(site.url) + r"/s/[A-Za-z0-9_-]+", share_url)

        # Large, readable, and on a phone it wraps instead of running off the screen.
        assert_readable(page, "#share-url")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert page.locator("#share-url").evaluate("e => e.scrollWidth <= e.clientWidth")

        links = page.locator("#share .share-links a")
        assert links.evaluate_all("as => as.map(a => a.dataset.channel)") == CHANNELS
        for link in links.all():
            href = link.get_attribute("href") or ""
            channel = link.get_attribute("data-channel")
            assert share_url in said(href), (channel, href)
            if channel in ("whatsapp", "telegram", "x", "email"):
                assert f"I just gave to {TITLE}" in said(href), (channel, href)
                assert "Every gift is doubled until " in said(href), (channel, href)
            if channel != "email":
                assert link.get_attribute("target") == "_blank"
                assert "noopener" in (link.get_attribute("rel") or "")

        assert_copies(page, "Copy link", "#share-url")

        # No Web Share in this browser: no button that would do nothing.
        expect(page.get_by_role("button", name="Share…")).to_be_hidden()

        # The QR code, for showing in person, is the share link's own, and downloads.
        page.get_by_text("Show a QR code to scan in person").click()
        expect(page.locator("#share-qr-code")).to_be_visible()
        source = page.locator("#share-qr-code").get_attribute("src") or ""
        svg = base64.b64decode(source.removeprefix("data:image/svg+xml;base64,")).decode()
        assert dark_modules(svg, border=4) == matrix_modules(segno.make_qr(share_url, error="m").matrix)
        with page.expect_download() as download:
            page.get_by_role("link", name="Download the QR code (SVG)").click()
        assert download.value.suggested_filename == "goodloop-share-qr.svg"
        assert Path(download.value.path()).read_text() == svg

        # The campaign page's preview card for networks.
        page.goto(f"{site.url}/c/{slug}")
        image_url = page.locator('meta[property="og:image"]').get_attribute("content") or ""
        assert image_url.startswith(f"{site.url}/c/{slug}/og.png")
        assert page.locator('meta[name="twitter:card"]').get_attribute("content") == "summary_large_image"
        card = context.request.get(image_url)
        assert card.ok and card.headers["content-type"] == "image/png"
        image = Image.open(io.BytesIO(card.body()))
        assert (image.format, image.size) == ("PNG", (1200, 630))
        assert errors == []
        context.close()

    def test_share_button_opens_the_share_sheet_where_there_is_one(
        self, browser: Browser, site: Site, size: str
    ) -> None:
        slug = matched_campaign(site)
        context = new_context(browser, size, init_script=FAKE_WEB_SHARE)
        page = context.new_page()

        page.goto(f"{site.url}/c/{slug}")
        # The campaign page shares its own address, in the words of anyone passing it on.
        page.get_by_role("button", name="Share…").click()
        shared = page.evaluate("window.__shared")
        assert shared["url"] == f"{site.url}/c/{slug}"
        assert shared["title"] == TITLE
        assert shared["text"].startswith(f"Support {TITLE} (")

        give(page, site, slug, amount="€10.00")
        expect(page.get_by_role("heading", name="Thank you!")).to_be_visible(timeout=30_000)
        page.get_by_role("button", name="Share…").click()
        shared = page.evaluate("window.__shared")
        assert shared["url"] == page.locator("#share-url").input_value()
        assert shared["text"].startswith(f"I just gave to {TITLE}")
        context.close()


@pytest.mark.browser
class TestCopyFallback:
    def test_without_the_clipboard_api_the_link_is_selected_and_copied_the_old_way(
        self, browser: Browser, site: Site
    ) -> None:
        slug = matched_campaign(site)
        # As on a plain-http deployment: no navigator.clipboard at all.
        context = new_context(
            browser,
            "phone",
            init_script="Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined});",
        )
        page = context.new_page()
        page.goto(f"{site.url}/c/{slug}")
        assert page.evaluate("navigator.clipboard") is None

        page.get_by_role("button", name="Copy link").click()

        expect(page.locator("#share-url-status")).to_have_text("Copied to the clipboard.")
        selected = page.locator("#share-url").evaluate(
            "e => document.activeElement === e ? e.value.slice(e.selectionStart, e.selectionEnd) : ''"
        )
        assert selected == f"{site.url}/c/{slug}"
        context.close()


@pytest.mark.browser
class TestSecrets:
    def test_a_new_api_key_is_readable_and_copies(self, browser: Browser, site: Site) -> None:
        context = new_context(browser, "phone", init_script="")
        page = context.new_page()
        page.goto(f"{site.url}/signup")
        page.get_by_label("Organisation name").fill("Harbor Relief")
        page.get_by_label("Your email").fill(f"owner-{uuid.uuid4().hex[:8]}@harbor-relief.org")
        page.get_by_label("Password").fill("correct horse battery")
        page.get_by_label("Country").fill("IE")
        page.get_by_label("Charity registration number").fill("CHY 12345")
        page.get_by_label("Website").fill("https://harbor-relief.org")
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_text("Copy it now.")).to_be_visible()

        assert_readable(page, "#api-key")
        assert_copies(page, "Copy key", "#api-key")

        page.get_by_role("link", name="Go to your dashboard").click()
        page.get_by_role("link", name="Members").click()
        page.get_by_label("Email").fill(f"editor-{uuid.uuid4().hex[:8]}@harbor-relief.org")
        page.get_by_role("button", name="Send invitation").click()
        assert_readable(page, "#invite-url")
        assert_copies(page, "Copy link", "#invite-url")
        assert "/invite" in page.locator("#invite-url").input_value()
        context.close()
