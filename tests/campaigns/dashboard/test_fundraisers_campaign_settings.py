"""A campaign's language and peer-to-peer settings, through the API and the dashboard form."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from service import audit
from service.db import Database
from tests import builders
from tests.campaigns.dashboard import helpers


def _settings_form(**overrides: str) -> dict[str, str]:
    """The campaign form with its settings fieldset, as a browser sends it (ticked boxes only)."""
    values = helpers.campaign_form(campaign_settings="1", default_language="en")
    values.update(overrides)
    return values


def _shown_values(page: str) -> dict[str, str]:
    """What the browser would send back from the edit form untouched (ticked boxes only)."""
    values = {name: helpers.input_value(page, name) or "" for name in helpers.CAMPAIGN_FORM_FIELDS}
    values |= {name: helpers.textarea_value(page, name) or "" for name in ("story", "allowed_embed_origins")}
    values["currency"] = "eur"
    values["campaign_settings"] = "1"
    selected = re.search(r'<option value="([a-z]+)" lang="[a-z]+" selected>', page)
    values["default_language"] = selected.group(1) if selected else ""
    for box in ("fundraisers_enabled", "fundraisers_need_approval"):
        if f'id="{box}" name="{box}" checked' in page:
            values[box] = "on"
    return values


def _campaign_id(location: str) -> str:
    match = re.search(r"/dashboard/campaigns/([0-9a-f-]{36})$", location)
    assert match is not None, location
    return match.group(1)


class TestCampaignApi:
    @pytest.mark.parametrize(
        ("country", "language"), [("NL", "nl"), ("BE", "nl"), ("IE", "en"), ("DE", "en")]
    )
    async def test_new_campaign_speaks_its_nonprofits_country_when_none_is_given(
        self, client: httpx.AsyncClient, country: str, language: str
    ) -> None:
        org = await builders.sign_up(client, country=country)

        created = await builders.create_campaign(client, org)

        assert created["default_language"] == language
        assert (created["fundraisers_enabled"], created["fundraisers_need_approval"]) == (False, False)

    async def test_given_settings_are_kept_and_read_back(self, client: httpx.AsyncClient) -> None:
        org = await builders.sign_up(client, country="NL")

        created = await builders.create_campaign(
            client, org, default_language="en", fundraisers_enabled=True, fundraisers_need_approval=True
        )
        fetched = await client.get(f"/api/v1/campaigns/{created['id']}", headers=org.headers)

        body = fetched.json()
        assert (body["default_language"], body["fundraisers_enabled"], body["fundraisers_need_approval"]) == (
            "en",
            True,
            True,
        )

    async def test_a_live_campaign_may_change_its_settings_and_the_change_is_audited(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        org = await builders.sign_up(client)
        admin = await builders.insert_admin(database)
        await builders.verify(client, admin, org)
        campaign = await builders.live_campaign(client, org, admin)

        patched = await client.patch(
            f"/api/v1/campaigns/{campaign['id']}",
            json={"fundraisers_enabled": True, "default_language": "nl"},
            headers=org.headers,
        )

        assert patched.status_code == 200, patched.text
        assert (patched.json()["fundraisers_enabled"], patched.json()["default_language"]) == (True, "nl")
        async with database.transaction() as session:
            updates = await audit.list_entries(
                session, subject_type="campaign", subject_id=campaign["id"], action="campaign.update"
            )
        assert len(updates) == 1
        assert updates[0].before is not None and updates[0].after is not None
        assert (updates[0].before["fundraisers_enabled"], updates[0].after["fundraisers_enabled"]) == (
            False,
            True,
        )

    @pytest.mark.parametrize(
        ("method", "body", "field"),
        [
            ("post", {"default_language": "de"}, "default_language"),
            ("post", {"fundraisers_enabled": "maybe"}, "fundraisers_enabled"),
            ("patch", {"default_language": None}, "default_language"),
            ("patch", {"fundraisers_need_approval": None}, "fundraisers_need_approval"),
            ("patch", {"default_language": "fr"}, "default_language"),
        ],
    )
    async def test_bad_settings_are_422_naming_the_field_and_change_nothing(
        self, client: httpx.AsyncClient, method: str, body: dict[str, Any], field: str
    ) -> None:
        org = await builders.sign_up(client)
        campaign = await builders.create_campaign(client, org)

        if method == "post":
            response = await client.post(
                "/api/v1/campaigns", json=builders.campaign_payload(**body), headers=org.headers
            )
        else:
            response = await client.patch(
                f"/api/v1/campaigns/{campaign['id']}", json=body, headers=org.headers
            )

        assert response.status_code == 422, response.text
        assert field in response.json()["fields"]
        listed = await client.get("/api/v1/campaigns", headers=org.headers)
        assert [c["default_language"] for c in listed.json()["data"]] == ["en"]

    async def test_openapi_documents_the_settings(self, client: httpx.AsyncClient) -> None:
        document = (await client.get("/api/v1/openapi.json")).json()

        schemas = document["components"]["schemas"]
        for name in ("CampaignIn", "CampaignPatch", "CampaignOut"):
            properties = schemas[name]["properties"]
            assert {"default_language", "fundraisers_enabled", "fundraisers_need_approval"} <= set(properties)


class TestCampaignForm:
    async def test_new_form_preselects_the_countrys_language(self, client: httpx.AsyncClient) -> None:
        org = await builders.sign_up(client, country="BE")
        await helpers.log_in(client, org.email)

        page = (await client.get("/dashboard/campaigns/new")).text

        assert '<option value="nl" lang="nl" selected>Nederlands</option>' in page
        assert 'name="fundraisers_enabled"' in page and 'name="campaign_settings"' in page

    async def test_ticked_boxes_and_language_are_saved(self, client: httpx.AsyncClient) -> None:
        org = await helpers.signed_in_org(client)

        response = await helpers.submit(
            client,
            "/dashboard/campaigns/new",
            _settings_form(default_language="nl", fundraisers_enabled="on", fundraisers_need_approval="on"),
            page="/dashboard/campaigns/new",
        )

        assert response.status_code == 303, response.text
        campaign_id = _campaign_id(response.headers["location"])
        body = (await client.get(f"/api/v1/campaigns/{campaign_id}", headers=org.headers)).json()
        assert (body["default_language"], body["fundraisers_enabled"], body["fundraisers_need_approval"]) == (
            "nl",
            True,
            True,
        )
        detail = (await client.get(response.headers["location"])).text
        assert 'id="campaign-language">Nederlands<' in detail

    async def test_unticking_a_box_turns_it_off_and_an_unchanged_form_writes_nothing(
        self, client: httpx.AsyncClient
    ) -> None:
        org = await helpers.signed_in_org(client)
        campaign = await builders.create_campaign(client, org, fundraisers_enabled=True)
        edit = f"/dashboard/campaigns/{campaign['id']}/edit"
        form = (await client.get(edit)).text
        assert 'id="fundraisers_enabled" name="fundraisers_enabled" checked' in form

        shown = _shown_values(form)
        assert shown["fundraisers_enabled"] == "on" and shown["default_language"] == "en"

        same = await helpers.submit(client, edit, shown, page=edit)
        assert same.status_code == 303
        assert "Nothing changed" in (await client.get(same.headers["location"])).text

        unticked = await helpers.submit(
            client, edit, {k: v for k, v in shown.items() if k != "fundraisers_enabled"}, page=edit
        )

        assert unticked.status_code == 303, unticked.text
        body = (await client.get(f"/api/v1/campaigns/{campaign['id']}", headers=org.headers)).json()
        assert body["fundraisers_enabled"] is False

    async def test_a_form_without_the_settings_leaves_them_alone(self, client: httpx.AsyncClient) -> None:
        org = await helpers.signed_in_org(client)
        campaign = await builders.create_campaign(
            client, org, fundraisers_enabled=True, default_language="nl"
        )
        edit = f"/dashboard/campaigns/{campaign['id']}/edit"

        response = await helpers.submit(
            client, edit, helpers.campaign_form(title="Warm coats", slug=campaign["slug"]), page=edit
        )

        assert response.status_code == 303, response.text
        body = (await client.get(f"/api/v1/campaigns/{campaign['id']}", headers=org.headers)).json()
        assert (body["title"], body["fundraisers_enabled"], body["default_language"]) == (
            "Warm coats",
            True,
            "nl",
        )

    @pytest.mark.parametrize(("lang", "message"), [("en", "Choose Nederlands or English."), ("nl", None)])
    async def test_an_unknown_language_is_an_error_next_to_the_field(
        self, client: httpx.AsyncClient, lang: str, message: str | None
    ) -> None:
        await helpers.signed_in_org(client)

        response = await helpers.submit(
            client,
            f"/dashboard/campaigns/new?lang={lang}",
            _settings_form(default_language="fr"),
            page="/dashboard/campaigns/new",
        )

        assert response.status_code == 422
        error = helpers.field_error(response.text, "default_language")
        assert error is not None
        if message is not None:
            assert error == message
        else:
            assert error == "Kies Nederlands of English."
