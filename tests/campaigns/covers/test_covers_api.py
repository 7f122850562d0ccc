"""PUT/DELETE /api/v1/campaigns/{id}/cover and GET /media/...: covers are decoded, stripped of
metadata, re-encoded, stored whole or not at all, and served immutable."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from service.db import Database
from service.settings import Settings
from tests import builders
from tests.campaigns.covers import images

ALT = "Children trying on new winter coats"


@pytest.fixture
async def org(client: httpx.AsyncClient) -> builders.Org:
    return await builders.sign_up(client)


@pytest.fixture
async def campaign(client: httpx.AsyncClient, org: builders.Org) -> dict[str, Any]:
    return await builders.create_campaign(client, org)


def media_files(settings: Settings) -> list[str]:
    root = settings.media_root
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def upload(
    client: httpx.AsyncClient,
    org: builders.Org,
    campaign_id: str,
    data: bytes,
    *,
    alt: str | None = ALT,
    filename: str = "cover.jpg",
    content_type: str = "image/jpeg",
) -> httpx.Response:
    fields = {"alt": alt} if alt is not None else {}
    return await client.put(
        f"/api/v1/campaigns/{campaign_id}/cover",
        files={"image": (filename, data, content_type)},
        data=fields,
        headers=org.headers,
    )


class TestUpload:
    @pytest.mark.parametrize(
        ("fmt", "content_type"), [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")]
    )
    async def test_a_photo_becomes_variants_without_metadata(
        self,
        client: httpx.AsyncClient,
        org: builders.Org,
        campaign: dict[str, Any],
        settings: Settings,
        fmt: str,
        content_type: str,
    ) -> None:
        response = await upload(
            client, org, campaign["id"], images.photo(fmt, size=(2000, 1000)), content_type=content_type
        )

        assert response.status_code == 200, response.text
        cover = response.json()["cover"]
        assert (cover["alt"], cover["width"], cover["height"]) == (ALT, 1600, 800)
        assert [i["width"] for i in cover["images"]] == [480, 960, 1600]
        for item in cover["images"]:
            for url, kind in ((item["webp_url"], "WEBP"), (item["jpeg_url"], "JPEG")):
                served = await client.get(url.removeprefix("http://testserver"))
                assert served.status_code == 200
                image = Image.open(io.BytesIO(served.content))
                assert (image.format, image.size) == (kind, (item["width"], item["height"]))
                # Re-encoded from pixels: no EXIF (camera, GPS), no ICC, nothing of the upload.
                assert not image.getexif()
                assert not {"exif", "icc_profile", "xmp"} & set(image.info)
                assert images.MAKER.encode() not in served.content
        assert len(media_files(settings)) == 6

    async def test_exif_orientation_is_applied(
        self, client: httpx.AsyncClient, org: builders.Org, campaign: dict[str, Any]
    ) -> None:
        # Stored 1200 x 800 on its side (orientation 6: rotate 90 degrees to show): 800 x 1200.
        response = await upload(client, org, campaign["id"], images.photo("JPEG", orientation=6))

        cover = response.json()["cover"]
        assert (cover["width"], cover["height"]) == (800, 1200)
        assert [i["width"] for i in cover["images"]] == [480, 800]

    async def test_a_small_image_is_never_upscaled(
        self, client: httpx.AsyncClient, org: builders.Org, campaign: dict[str, Any]
    ) -> None:
        response = await upload(client, org, campaign["id"], images.photo("PNG", size=(400, 300)))

        assert [i["width"] for i in response.json()["cover"]["images"]] == [400]

    async def test_text_in_a_png_is_dropped_and_transparency_flattened(
        self, client: httpx.AsyncClient, org: builders.Org, campaign: dict[str, Any]
    ) -> None:
        response = await upload(client, org, campaign["id"], images.png_with_text(), content_type="image/png")

        url = response.json()["cover"]["images"][0]["jpeg_url"].removeprefix("http://testserver")
        served = await client.get(url)
        assert b"Secret Lane" not in served.content
        assert Image.open(io.BytesIO(served.content)).mode == "RGB"

    async def test_an_animation_keeps_its_first_frame(
        self, client: httpx.AsyncClient, org: builders.Org, campaign: dict[str, Any]
    ) -> None:
        response = await upload(
            client, org, campaign["id"], images.animated_webp(), content_type="image/webp"
        )

        url = response.json()["cover"]["images"][0]["webp_url"].removeprefix("http://testserver")
        image = Image.open(io.BytesIO((await client.get(url)).content))
        assert getattr(image, "n_frames", 1) == 1
        red, _green, blue = image.convert("RGB").getpixel((10, 10))  # type: ignore[misc]
        assert red > 200 and blue < 60

    async def test_replacing_a_cover_deletes_the_old_files_after_commit(
        self, client: httpx.AsyncClient, org: builders.Org, campaign: dict[str, Any], settings: Settings
    ) -> None:
        await upload(client, org, campaign["id"], images.photo("JPEG"))
        first = media_files(settings)

        second = await upload(client, org, campaign["id"], images.photo("PNG"), content_type="image/png")

        assert second.status_code == 200
        after = media_files(settings)
        assert after and not set(first) & set(after)

    async def test_the_same_image_on_two_campaigns_keeps_its_files_while_one_uses_it(
        self, client: httpx.AsyncClient, org: builders.Org, campaign: dict[str, Any], settings: Settings
    ) -> None:
        other = await builders.create_campaign(client, org)
        data = images.photo("JPEG")
        await upload(client, org, campaign["id"], data)
        await upload(client, org, other["id"], data)

        removed = await client.delete(f"/api/v1/campaigns/{campaign['id']}/cover", headers=org.headers)

        assert removed.status_code == 200 and removed.json()["cover"] is None
        assert len(media_files(settings)) == 6  # 480, 960 and 1200 wide, WebP and JPEG
        other_cover = (await client.get(f"/api/v1/campaigns/{other['id']}", headers=org.headers)).json()[
            "cover"
        ]
        assert other_cover is not None

    async def test_removing_the_cover_deletes_its_files(
        self, client: httpx.AsyncClient, org: builders.Org, campaign: dict[str, Any], settings: Settings
    ) -> None:
        await upload(client, org, campaign["id"], images.photo("JPEG"))

        removed = await client.delete(f"/api/v1/campaigns/{campaign['id']}/cover", headers=org.headers)

        assert removed.status_code == 200
        assert removed.json()["cover"] is None
        assert media_files(settings) == []


class TestRefusals:
    @pytest.mark.parametrize(
        ("name", "make", "status", "code", "words"),
        [
            (
                "text renamed .jpg",
                lambda: b"Dear donor,\nthis is not a photo.\n" * 50,
                422,
                "invalid_image",
                "not a JPEG",
            ),
            ("truncated", images.truncated_jpeg, 422, "invalid_image", "damaged"),
            ("bomb", images.png_bomb, 422, "invalid_image", "pixels"),
            ("gif", images.gif, 422, "invalid_image", "not a JPEG"),
            ("tiny", lambda: images.photo("PNG", size=(120, 80)), 422, "invalid_image", "at least 200"),
            ("6 MB", lambda: b"\xff\xd8\xff" + b"\x00" * (6 * 1024 * 1024), 413, "image_too_large", "5 MB"),
        ],
    )
    async def test_what_is_not_a_usable_image_is_refused_and_nothing_is_written(
        self,
        client: httpx.AsyncClient,
        org: builders.Org,
        campaign: dict[str, Any],
        settings: Settings,
        name: str,
        make: Any,
        status: int,
        code: str,
        words: str,
    ) -> None:
        response = await upload(client, org, campaign["id"], make())

        assert response.status_code == status, response.text
        body = response.json()
        assert body["error"] == code
        assert words in body["detail"]
        assert media_files(settings) == []
        current = await client.get(f"/api/v1/campaigns/{campaign['id']}", headers=org.headers)
        assert current.json()["cover"] is None

    @pytest.mark.parametrize(
        ("alt", "words"), [(None, "Describe the image"), ("   ", "Describe the image"), ("x" * 301, "300")]
    )
    async def test_alt_text_is_required(
        self,
        client: httpx.AsyncClient,
        org: builders.Org,
        campaign: dict[str, Any],
        settings: Settings,
        alt: str | None,
        words: str,
    ) -> None:
        response = await upload(client, org, campaign["id"], images.photo("JPEG"), alt=alt)

        assert response.status_code == 422
        assert words in response.json()["fields"]["alt"]
        assert media_files(settings) == []

    async def test_a_missing_image_is_named(
        self, client: httpx.AsyncClient, org: builders.Org, campaign: dict[str, Any]
    ) -> None:
        response = await client.put(
            f"/api/v1/campaigns/{campaign['id']}/cover", data={"alt": ALT}, headers=org.headers
        )

        assert response.status_code == 422
        assert "image" in response.json()["fields"]

    async def test_another_nonprofits_campaign_is_not_found(
        self, client: httpx.AsyncClient, campaign: dict[str, Any], settings: Settings
    ) -> None:
        stranger = await builders.sign_up(client)

        put = await upload(client, stranger, campaign["id"], images.photo("JPEG"))
        delete = await client.delete(f"/api/v1/campaigns/{campaign['id']}/cover", headers=stranger.headers)

        assert (put.status_code, delete.status_code) == (404, 404)
        assert media_files(settings) == []

    async def test_without_credentials_it_is_401_before_the_body_is_read(
        self, client: httpx.AsyncClient, campaign: dict[str, Any], settings: Settings
    ) -> None:
        response = await client.put(
            f"/api/v1/campaigns/{campaign['id']}/cover",
            files={"image": ("a.jpg", images.photo("JPEG"), "image/jpeg")},
            data={"alt": ALT},
        )

        assert response.status_code == 401
        assert media_files(settings) == []

    async def test_a_live_campaigns_cover_cannot_change_but_can_be_removed(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        org = await builders.sign_up(client)
        admin = await builders.insert_admin(database)
        await builders.verify(client, admin, org)
        draft = await builders.create_campaign(client, org)
        await upload(client, org, draft["id"], images.photo("JPEG"))
        await client.post(f"/api/v1/campaigns/{draft['id']}/submit", headers=org.headers)
        await client.post(f"/api/v1/admin/campaigns/{draft['id']}/approve", json={}, headers=admin.headers)

        swapped = await upload(client, org, draft["id"], images.photo("PNG"), content_type="image/png")
        removed = await client.delete(f"/api/v1/campaigns/{draft['id']}/cover", headers=org.headers)

        assert swapped.status_code == 409
        assert swapped.json()["error"] == "field_locked"
        assert removed.status_code == 200
        assert media_files(settings) == []


class TestServing:
    async def test_media_is_served_immutable_with_its_type(
        self, client: httpx.AsyncClient, org: builders.Org, campaign: dict[str, Any]
    ) -> None:
        response = await upload(client, org, campaign["id"], images.photo("JPEG"))
        item = response.json()["cover"]["images"][0]

        webp = await client.get(item["webp_url"].removeprefix("http://testserver"))
        jpeg = await client.get(item["jpeg_url"].removeprefix("http://testserver"))

        assert webp.headers["content-type"] == "image/webp"
        assert jpeg.headers["content-type"] == "image/jpeg"
        for served in (webp, jpeg):
            assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert served.headers["x-content-type-options"] == "nosniff"

    @pytest.mark.parametrize(
        "path",
        [
            "/media/../secret_key",
            "/media/..%2fsecret_key",
            "/media/covers/..%2f..%2fsecret_key",
            "/media/covers/%2e%2e/%2e%2e/secret_key",
            "/media/secret_key",
            "/media/covers/" + "0" * 64 + "-480.webp",
            "/media/covers/" + "0" * 64 + "-480.svg",
        ],
    )
    async def test_nothing_outside_the_media_names_is_served(
        self, client: httpx.AsyncClient, settings: Settings, path: str
    ) -> None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        (settings.data_dir / "secret_key").write_text("do not serve")

        response = await client.get(path)

        assert response.status_code == 404
        assert b"do not serve" not in response.content


def test_media_root_defaults_to_the_data_directory(tmp_path: Path) -> None:
    from service.settings import load_settings

    assert load_settings({"GOODLOOP_DATA_DIR": str(tmp_path)}).media_root == tmp_path / "media"
    chosen = load_settings({"GOODLOOP_DATA_DIR": str(tmp_path), "GOODLOOP_MEDIA_DIR": "/srv/media"})
    assert chosen.media_root == Path("/srv/media")
