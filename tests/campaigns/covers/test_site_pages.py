"""The campaign page's cover and organisation block, the privacy and terms pages, the footer
and the favicon."""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from service.app import create_app
from service.db import Database
from service.settings import Settings
from tests import builders
from tests.campaigns.covers import images

ALT = "Volunteers handing out coats"


async def live_with_cover(
    client: httpx.AsyncClient, database: Database, *, cover: bytes | None, **overrides: Any
) -> tuple[builders.Org, dict[str, Any]]:
    org = await builders.sign_up(
        client, country="IE", registration_number="CHY 20134", website="https://harbor-relief.org/"
    )
    admin = await builders.insert_admin(database)
    await builders.verify(client, admin, org)
    draft = await builders.create_campaign(client, org, **overrides)
    if cover is not None:
        put = await client.put(
            f"/api/v1/campaigns/{draft['id']}/cover",
            files={"image": ("c.jpg", cover, "image/jpeg")},
            data={"alt": ALT},
            headers=org.headers,
        )
        assert put.status_code == 200, put.text
    await client.post(f"/api/v1/campaigns/{draft['id']}/submit", headers=org.headers)
    approved = await client.post(
        f"/api/v1/admin/campaigns/{draft['id']}/approve", json={}, headers=admin.headers
    )
    assert approved.status_code == 200, approved.text
    return org, approved.json()


def attributes(html: str, element_id: str) -> dict[str, str]:
    match = re.search(rf'<(\w+)([^>]*\bid="{re.escape(element_id)}"[^>]*)>', html)
    assert match is not None, element_id
    return dict(re.findall(r'([\w-]+)="([^"]*)"', match.group(2)))


class TestCoverOnThePage:
    async def test_the_uploaded_cover_is_a_sized_picture_with_alt_text(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        _, campaign = await live_with_cover(
            client,
            database,
            cover=images.photo("JPEG", size=(2000, 1000)),
            cover_image_url="https://images.example.org/old.jpg",
        )

        page = (await client.get(f"/c/{campaign['slug']}")).text

        img = attributes(page, "cover")
        assert (img["alt"], img["width"], img["height"]) == (ALT, "1600", "800")
        assert "images.example.org/old.jpg" not in img.get("src", "")
        assert [w for w in re.findall(r" (\d+)w", img["srcset"])] == ["480", "960", "1600"]
        webp = re.search(r'<source type="image/webp"[^>]*srcset="([^"]+)"', page)
        assert webp is not None
        for url in [part.split()[0] for part in webp.group(1).split(", ")] + [img["src"]]:
            served = await client.get(url)
            assert served.status_code == 200
            Image.open(io.BytesIO(served.content)).verify()

    async def test_a_cover_url_still_shows_without_an_upload(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        _, campaign = await live_with_cover(
            client, database, cover=None, cover_image_url="https://images.example.org/coats.jpg"
        )

        page = (await client.get(f"/c/{campaign['slug']}")).text

        assert attributes(page, "cover")["src"] == "https://images.example.org/coats.jpg"


class TestOrganisationBlock:
    async def test_shows_name_verified_badge_country_registration_and_website(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        _, campaign = await live_with_cover(client, database, cover=None)

        page = (await client.get(f"/c/{campaign['slug']}")).text

        assert 'id="verified-badge"' in page and "Verified nonprofit" in page
        assert "checked this organisation's registration" in page
        assert re.search(r'id="org-country">Ireland<', page)
        assert re.search(r'id="org-registration">CHY 20134<', page)
        website = attributes(page, "org-website")
        assert website["href"] == "https://harbor-relief.org/"
        assert set(website["rel"].split()) >= {"noopener", "nofollow"}
        byline = re.search(r'<p class="hint byline" id="byline">(.*?)</p>', page, re.S)
        assert byline is not None and "Verified nonprofit" in byline.group(1)


class TestLegalPages:
    @pytest.mark.parametrize(
        ("path", "heading"), [("/privacy", "Privacy notice"), ("/terms", "Terms of use")]
    )
    async def test_development_shows_the_built_in_template_saying_so(
        self, client: httpx.AsyncClient, path: str, heading: str
    ) -> None:
        response = await client.get(path)

        assert response.status_code == 200
        assert f"<h1>{heading}</h1>" in response.text
        assert "must replace" in response.text
        assert response.headers["cache-control"] == "public, max-age=300"


@pytest.fixture
def operator_files(tmp_path: Path) -> tuple[Path, Path]:
    privacy = tmp_path / "privacy.md"
    privacy.write_text(
        "# Our privacy notice\n\nWe keep **little**.<script>alert(1)</script>\n\n[x](javascript:alert(1))"
    )
    terms = tmp_path / "terms.md"
    terms.write_text("# Our terms\n\nBe kind.")
    return privacy, terms


@pytest.fixture
async def operator_client(
    settings: Settings, database: Database, operator_files: tuple[Path, Path]
) -> AsyncIterator[httpx.AsyncClient]:
    privacy, terms = operator_files
    configured = dataclasses.replace(settings, privacy_markdown=privacy, terms_markdown=terms)
    app = create_app(configured, database=database)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


class TestOperatorDocuments:
    async def test_the_operators_markdown_is_rendered_and_sanitised(
        self, operator_client: httpx.AsyncClient
    ) -> None:
        privacy = (await operator_client.get("/privacy")).text
        terms = (await operator_client.get("/terms")).text

        assert "<h1>Our privacy notice</h1>" in privacy and "<strong>little</strong>" in privacy
        assert "<script" not in privacy and 'href="javascript:' not in privacy
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in privacy
        assert "must replace" not in privacy
        assert "<h1>Our terms</h1>" in terms

    async def test_an_edit_to_the_file_shows_without_a_restart(
        self, operator_client: httpx.AsyncClient, operator_files: tuple[Path, Path]
    ) -> None:
        await operator_client.get("/terms")
        operator_files[1].write_text("# Our terms, version two\n\nStill kind.")

        assert "version two" in (await operator_client.get("/terms")).text


class TestFooterAndFavicon:
    @pytest.mark.parametrize("path", ["/privacy", "/dashboard/login", "/dashboard/signup"])
    async def test_pages_link_privacy_terms_and_the_icon(self, client: httpx.AsyncClient, path: str) -> None:
        page = (await client.get(path)).text

        footer = re.search(r'<footer class="site-footer">(.*?)</footer>', page, re.S)
        assert footer is not None
        assert 'href="/privacy"' in footer.group(1) and 'href="/terms"' in footer.group(1)
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page

    async def test_the_campaign_page_has_the_footer_and_icon(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        _, campaign = await live_with_cover(client, database, cover=None)

        page = (await client.get(f"/c/{campaign['slug']}")).text

        assert 'href="/privacy"' in page and 'href="/terms"' in page
        assert 'rel="icon"' in page

    async def test_favicon_ico_is_a_real_icon(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/favicon.ico")

        assert response.status_code == 200
        assert response.headers["content-type"] == "image/x-icon"
        icon = Image.open(io.BytesIO(response.content))
        assert icon.format == "ICO"
        assert (32, 32) in icon.info["sizes"]

    async def test_the_svg_icon_is_served(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/static/favicon.svg")

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("image/svg+xml")


class TestLegalNoteAtTheDonateButton:
    async def test_the_campaign_page_and_the_embed_name_terms_and_privacy_by_the_button(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        _, campaign = await live_with_cover(client, database, cover=None)

        page = (await client.get(f"/c/{campaign['slug']}")).text
        embed = (await client.get(f"/embed/{campaign['slug']}")).text

        for html in (page, embed):
            note = re.search(r'<p class="hint legal-note" id="legal-note">(.*?)</p>', html, re.S)
            assert note is not None
            assert 'href="/terms"' in note.group(1) and 'href="/privacy"' in note.group(1)
            assert html.index('class="donate-button"') < html.index('id="legal-note"')
        # Inside a frame the links open outside it, never replacing the donate form.
        assert 'href="/terms" target="_blank" rel="noopener"' in embed
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in embed
