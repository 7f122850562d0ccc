"""The tax profile: formats (RSIN with the eleven test, EIN, UK charity numbers), the country's
tax text, the API and the dashboard page (owners edit, audited; each organisation sees its own)."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from campaigns.receipts.models import TaxScheme
from campaigns.receipts.tax import InvalidTaxId, Issuer, normalise_tax_id, tax_text
from service.audit import AuditEntry
from service.db import Database
from tests import builders
from tests.campaigns.dashboard.helpers import add_member, field_error, input_value, log_in, submit
from tests.campaigns.receipts.helpers import NL_PROFILE, UK_PROFILE, US_PROFILE, pdf_text

PATH = "/api/v1/nonprofits/me/tax-profile"


class TestFormats:
    @pytest.mark.parametrize("rsin", ["111222333", "123456782", " 1234.56.782 "])
    def test_rsins_that_pass_the_eleven_test_are_accepted(self, rsin: str) -> None:
        assert normalise_tax_id("NL", rsin) == rsin.replace(".", "").strip()

    @pytest.mark.parametrize("rsin", ["111222334", "12345678", "1234567890", "abcdefghi", "000000000"])
    def test_other_rsins_are_refused(self, rsin: str) -> None:
        with pytest.raises(InvalidTaxId):
            normalise_tax_id("NL", rsin)

    def test_an_ein_is_kept_as_nn_nnnnnnn(self) -> None:
        assert normalise_tax_id("US", "123456789") == "12-3456789"
        assert normalise_tax_id("US", " 12-3456789 ") == "12-3456789"
        for bad in ("1234-56789", "12-345678", "AB-CDEFGHI"):
            with pytest.raises(InvalidTaxId):
                normalise_tax_id("US", bad)

    def test_uk_charity_numbers_have_six_to_eight_digits(self) -> None:
        assert normalise_tax_id("GB", "1234567") == "1234567"
        assert normalise_tax_id("GB", "sc012345") == "SC012345"
        for bad in ("12345", "123456789", "CH123456"):
            with pytest.raises(InvalidTaxId):
                normalise_tax_id("GB", bad)

    def test_an_empty_identifier_means_none(self) -> None:
        assert normalise_tax_id("NL", "  ") is None


class TestTaxText:
    def issuer(self, country: str, tax_id: str | None) -> Issuer:
        return Issuer("Warm Coats", country, "123", tax_id, "UTC")

    def test_each_country_has_its_text_in_both_languages(self) -> None:
        assert self.issuer("NL", "111222333").scheme is TaxScheme.ANBI
        assert "(ANBI), RSIN 111222333" in tax_text(self.issuer("NL", "111222333"), "en")
        assert "algemeen nut beogende instelling (ANBI), RSIN 111222333" in tax_text(
            self.issuer("NL", "111222333"), "nl"
        )
        assert "Section 501(c)(3)" in tax_text(self.issuer("US", "12-3456789"), "en")
        assert "EIN 12-3456789" in tax_text(self.issuer("US", "12-3456789"), "nl")
        assert "registered charity, number 1234567" in tax_text(self.issuer("GB", "1234567"), "en")
        assert "geregistreerde charity" in tax_text(self.issuer("GB", "1234567"), "nl")

    def test_elsewhere_or_without_an_identifier_the_text_is_neutral(self) -> None:
        for issuer in (self.issuer("DE", "12/345/67890"), self.issuer("NL", None), self.issuer("US", None)):
            assert issuer.scheme is TaxScheme.NEUTRAL
            assert "depends on the rules of the country where you pay tax" in tax_text(issuer, "en")
            assert "ANBI" not in tax_text(issuer, "nl") and "501(c)(3)" not in tax_text(issuer, "en")


class TestApi:
    async def test_before_saving_the_profile_shows_the_sign_up_details(
        self, client: httpx.AsyncClient
    ) -> None:
        org = await builders.sign_up(client, name="Harbor Relief", country="IE", registration_number="CHY 1")
        response = await client.get(PATH, headers=org.headers)

        assert response.status_code == 200
        body = response.json()
        assert (body["legal_name"], body["country"], body["registration_number"]) == (
            "Harbor Relief",
            "IE",
            "CHY 1",
        )
        assert (body["saved"], body["scheme"], body["time_zone"]) == (False, "neutral", "Europe/Dublin")

    @pytest.mark.parametrize(
        ("profile", "scheme", "tax_id"),
        [
            (NL_PROFILE, "anbi", "111222333"),
            (US_PROFILE, "us_501c3", "12-3456789"),
            (UK_PROFILE, "uk_charity", "1234567"),
        ],
    )
    async def test_an_owner_saves_the_profile_and_the_change_is_audited(
        self, client: httpx.AsyncClient, database: Database, profile: dict[str, str], scheme: str, tax_id: str
    ) -> None:
        org = await builders.sign_up(client)
        response = await client.put(PATH, json=profile, headers=org.headers)

        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["saved"], body["scheme"], body["tax_id"]) == (True, scheme, tax_id)
        assert (await client.get(PATH, headers=org.headers)).json() == body
        async with database.transaction() as session:
            entries = list(
                await session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "tax_profile.update"))
            )
        assert [str(e.nonprofit_id) for e in entries] == [org.id]
        assert entries[0].after is not None and entries[0].after["tax_id"] == tax_id

    async def test_a_wrong_identifier_is_a_422_naming_the_field_and_saves_nothing(
        self, client: httpx.AsyncClient
    ) -> None:
        org = await builders.sign_up(client)
        response = await client.put(PATH, json={**NL_PROFILE, "tax_id": "111222334"}, headers=org.headers)

        assert response.status_code == 422
        assert response.json()["error"] == "validation_failed"
        assert "tax_id" in response.json()["fields"]
        assert (await client.get(PATH, headers=org.headers)).json()["saved"] is False

    async def test_an_unknown_time_zone_is_a_422(self, client: httpx.AsyncClient) -> None:
        org = await builders.sign_up(client)
        response = await client.put(
            PATH, json={**US_PROFILE, "time_zone": "Mars/Olympus"}, headers=org.headers
        )
        assert response.status_code == 422
        assert "time_zone" in response.json()["fields"]

    async def test_each_organisation_reads_and_writes_only_its_own(self, client: httpx.AsyncClient) -> None:
        mine = await builders.sign_up(client)
        theirs = await builders.sign_up(client)
        assert (await client.put(PATH, json=NL_PROFILE, headers=mine.headers)).status_code == 200

        other = (await client.get(PATH, headers=theirs.headers)).json()
        assert other["saved"] is False and other["legal_name"] != NL_PROFILE["legal_name"]
        assert (await client.put(PATH, json=US_PROFILE, headers=theirs.headers)).status_code == 200
        assert (await client.get(PATH, headers=mine.headers)).json()["legal_name"] == NL_PROFILE["legal_name"]

    async def test_without_a_key_it_is_a_401(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(PATH)).status_code == 401
        assert (await client.put(PATH, json=NL_PROFILE)).status_code == 401


class TestPage:
    async def test_an_owner_fills_in_the_profile_and_sees_the_text_receipts_carry(
        self, client: httpx.AsyncClient
    ) -> None:
        org = await builders.sign_up(client)
        await log_in(client, org.email)
        response = await submit(
            client,
            "/dashboard/tax-profile",
            {**NL_PROFILE, "time_zone": "Europe/Amsterdam"},
            page="/dashboard/tax-profile",
        )
        assert response.status_code == 303
        page = (await client.get("/dashboard/tax-profile")).text

        assert input_value(page, "tax_id") == "111222333"
        assert "public benefit organisation (ANBI), RSIN 111222333" in page
        sample = await client.get("/dashboard/tax-profile/sample.pdf")
        assert sample.headers["content-type"] == "application/pdf"
        assert "RSIN 111222333" in pdf_text(sample.content)

    async def test_a_wrong_identifier_is_shown_next_to_its_field(self, client: httpx.AsyncClient) -> None:
        org = await builders.sign_up(client)
        await log_in(client, org.email)
        response = await submit(
            client,
            "/dashboard/tax-profile",
            {**US_PROFILE, "tax_id": "12-34", "time_zone": ""},
            page="/dashboard/tax-profile",
        )

        assert response.status_code == 422
        assert field_error(response.text, "tax_id") == "Enter the EIN as NN-NNNNNNN (9 digits)."
        assert input_value(response.text, "tax_id") == "12-34"
        assert (await client.get(PATH, headers=org.headers)).json()["saved"] is False

    async def test_members_who_are_not_owners_read_it_but_cannot_change_it(
        self, client: httpx.AsyncClient
    ) -> None:
        org = await builders.sign_up(client)
        assert (await client.put(PATH, json=UK_PROFILE, headers=org.headers)).status_code == 200
        await add_member(client, org, role="editor")
        page = await client.get("/dashboard/tax-profile")

        assert page.status_code == 200
        assert UK_PROFILE["legal_name"] in page.text and 'name="tax_id"' not in page.text
        refused = await submit(client, "/dashboard/tax-profile", US_PROFILE, page="/dashboard/tax-profile")
        assert refused.status_code == 403
        assert (await client.get(PATH, headers=org.headers)).json()["legal_name"] == UK_PROFILE["legal_name"]

    async def test_a_member_sees_only_their_own_organisations_profile(
        self, client: httpx.AsyncClient
    ) -> None:
        theirs = await builders.sign_up(client)
        assert (await client.put(PATH, json=NL_PROFILE, headers=theirs.headers)).status_code == 200
        mine = await builders.sign_up(client)
        await log_in(client, mine.email)

        page = (await client.get("/dashboard/tax-profile")).text
        assert NL_PROFILE["legal_name"] not in page and "111222333" not in page
        assert "111222333" not in pdf_text((await client.get("/dashboard/tax-profile/sample.pdf")).content)
