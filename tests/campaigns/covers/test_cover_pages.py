"""The dashboard's cover form: upload with CSRF, see the current cover, remove it; refusals come
back next to the field; another organisation's campaign is not found."""

from __future__ import annotations

import re

import httpx

from service.settings import Settings
from tests.campaigns.covers import images
from tests.campaigns.covers.test_covers_api import media_files
from tests.campaigns.dashboard import helpers

ALT = "A volunteer handing a coat to a child"


async def post_cover(
    client: httpx.AsyncClient, detail: str, data: bytes, *, alt: str = ALT, csrf: str | None = None
) -> httpx.Response:
    token = csrf if csrf is not None else await helpers.csrf_token(client, detail)
    return await client.post(
        detail + "/cover",
        data={"csrf_token": token, "alt": alt},
        files={"image": ("photo.jpg", data, "image/jpeg")},
    )


class TestCoverForm:
    async def test_upload_shows_the_cover_and_remove_takes_it_away(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        await helpers.signed_in_org(client)
        detail = await helpers.create_campaign_via_page(client)

        saved = await post_cover(client, detail, images.photo("JPEG", size=(2000, 1000)))

        assert saved.status_code == 303
        assert saved.headers["location"] == detail + "#cover"
        page = (await client.get(detail)).text
        current = re.search(
            r'<img class="current-cover" id="current-cover" src="([^"]+)"[^>]*alt="([^"]+)"', page
        )
        assert current is not None and current.group(2) == ALT
        assert (await client.get(current.group(1))).status_code == 200
        assert "Cover saved." in page
        assert len(media_files(settings)) == 6

        removed = await helpers.submit(client, detail + "/cover/remove", page=detail)

        assert removed.status_code == 303
        assert 'id="current-cover"' not in (await client.get(detail)).text
        assert media_files(settings) == []

    async def test_a_file_that_is_not_an_image_is_refused_next_to_the_field(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        await helpers.signed_in_org(client)
        detail = await helpers.create_campaign_via_page(client)

        response = await post_cover(client, detail, b"%PDF-1.7 not a photo", alt="A description kept")

        assert response.status_code == 422
        assert helpers.field_error(response.text, "image") == "The file is not a JPEG, PNG or WebP image."
        assert helpers.input_value(response.text, "alt") == "A description kept"
        assert media_files(settings) == []

    async def test_missing_alt_text_is_asked_for(self, client: httpx.AsyncClient, settings: Settings) -> None:
        await helpers.signed_in_org(client)
        detail = await helpers.create_campaign_via_page(client)

        response = await post_cover(client, detail, images.photo("JPEG"), alt="  ")

        assert response.status_code == 422
        assert (helpers.field_error(response.text, "alt") or "").startswith("Describe the image")
        assert media_files(settings) == []

    async def test_without_the_csrf_token_nothing_is_stored(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        await helpers.signed_in_org(client)
        detail = await helpers.create_campaign_via_page(client)

        response = await post_cover(client, detail, images.photo("JPEG"), csrf="forged")

        assert response.status_code == 403
        assert media_files(settings) == []

    async def test_another_organisations_campaign_is_not_found(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        await helpers.signed_in_org(client)
        detail = await helpers.create_campaign_via_page(client)
        await helpers.log_out(client)
        await helpers.signed_in_org(client)

        token = await helpers.csrf_token(client, "/dashboard")
        response = await post_cover(client, detail, images.photo("JPEG"), csrf=token)
        removed = await client.post(detail + "/cover/remove", data={"csrf_token": token})

        assert (response.status_code, removed.status_code) == (404, 404)
        assert media_files(settings) == []

    async def test_a_phone_photo_over_5_mb_hears_the_limit_next_to_the_field(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        await helpers.signed_in_org(client)
        detail = await helpers.create_campaign_via_page(client)

        response = await post_cover(client, detail, b"\xff\xd8\xff" + b"\x00" * (9 * 1024 * 1024))

        assert response.status_code == 413
        assert helpers.field_error(response.text, "image") == (
            "The image is larger than 5 MB; covers may be at most 5 MB."
        )
        assert media_files(settings) == []
