"""Admins download every organisation's donations, matches and the audit log, from the API
(admin token) and from the console (signed-in admin)."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import httpx
import pytest

from campaigns.matching import lifecycle
from service.auth.models import AdminRole
from service.db import Database, utcnow
from service.settings import Settings
from tests.builders import insert_admin
from tests.campaigns.dashboard.helpers import error_code, log_in
from tests.campaigns.matching.helpers import World, give, make_program, only_match
from tests.console.helpers import signed_in_admin
from tests.exports.builders import Tenant, header, paid_donation, parse_csv, tenant

NOTE = "=cmd|' /C calc'!A0\nsecond line, with \"quotes\""


@pytest.fixture
async def two(client: httpx.AsyncClient, database: Database, settings: Settings) -> tuple[Tenant, Tenant]:
    first = await tenant(client, database, "jpy")
    second = await tenant(client, database, "kwd")
    await paid_donation(client, database, settings, first.campaigns["jpy"], amount_minor=3_000)
    await paid_donation(client, database, settings, second.campaigns["kwd"], amount_minor=1_250)
    return first, second


class TestAdminDonationsCsv:
    @pytest.mark.parametrize("role", [AdminRole.REVIEWER, AdminRole.FINANCE, AdminRole.SUPERADMIN])
    async def test_lists_every_organisation_with_its_name(
        self, client: httpx.AsyncClient, database: Database, two: tuple[Tenant, Tenant], role: AdminRole
    ) -> None:
        admin = await insert_admin(database, role=role)

        response = await client.get("/api/v1/admin/exports/donations.csv", headers=admin.headers)

        rows = parse_csv(response)
        assert {(r["nonprofit_id"], r["amount"], r["currency"]) for r in rows} == {
            (two[0].org.id, "3000", "JPY"),
            (two[1].org.id, "1.250", "KWD"),
        }
        assert all(r["nonprofit"].startswith("Harbor Relief") for r in rows)

    async def test_nonprofit_id_narrows_to_one_organisation(
        self, client: httpx.AsyncClient, database: Database, two: tuple[Tenant, Tenant]
    ) -> None:
        admin = await insert_admin(database)

        response = await client.get(
            "/api/v1/admin/exports/donations.csv",
            params={"nonprofit_id": two[1].org.id},
            headers=admin.headers,
        )

        assert [r["nonprofit_id"] for r in parse_csv(response)] == [two[1].org.id]

    async def test_a_nonprofit_key_or_no_token_is_refused(
        self, client: httpx.AsyncClient, two: tuple[Tenant, Tenant]
    ) -> None:
        with_key = await client.get("/api/v1/admin/exports/donations.csv", headers=two[0].org.headers)
        without = await client.get("/api/v1/admin/exports/matches.csv")

        assert with_key.status_code == 401
        assert with_key.json()["error"] == "invalid_admin_token"
        assert without.status_code == 401
        assert two[1].org.id not in with_key.text

    async def test_a_bad_filter_is_a_422_naming_it(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        admin = await insert_admin(database)

        response = await client.get(
            "/api/v1/admin/exports/donations.csv", params={"nonprofit_id": "abc"}, headers=admin.headers
        )

        assert response.status_code == 422
        assert "nonprofit_id" in response.json()["fields"]


class TestAdminMatchesCsv:
    async def test_a_rejected_match_shows_the_decision_and_who_made_it(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        owner = await tenant(client, database, "eur")
        finance = await insert_admin(database, role=AdminRole.FINANCE)
        world = World(client, database, settings, finance, owner.admin, owner.campaigns["eur"])
        await make_program(world, hold_days=0, review_threshold_minor=1_000)
        payment = await give(world, amount_minor=2_000)
        async with database.transaction() as session:
            await lifecycle.release_due_matches(session, now=utcnow() + timedelta(seconds=1))
        match = await only_match(database, payment)
        rejected = await client.post(
            f"/api/v1/admin/matches/{match.id}/reject", json={"note": NOTE}, headers=owner.admin.headers
        )
        assert rejected.status_code == 200, rejected.text

        admin_rows = parse_csv(await client.get("/api/v1/admin/exports/matches.csv", headers=finance.headers))
        own_rows = parse_csv(await client.get("/api/v1/exports/matches.csv", headers=owner.org.headers))

        (row,) = admin_rows
        assert (row["match_id"], row["status"]) == (str(match.id), "voided")
        assert row["decided_by"] == owner.admin.email
        assert row["decision_note"] == "'" + NOTE
        assert (row["amount"], row["original"], row["currency"]) == ("20.00", "20.00", "EUR")
        (own,) = own_rows
        assert own["decision_note"] == "'" + NOTE
        assert "decided_by" not in own


class TestAuditLogCsv:
    async def test_filters_and_json_before_after(
        self, client: httpx.AsyncClient, database: Database, two: tuple[Tenant, Tenant]
    ) -> None:
        admin = await insert_admin(database, role=AdminRole.FINANCE)
        first, second = two
        reviewer = first.admin

        async def rows(**params: str) -> list[dict[str, str]]:
            response = await client.get(
                "/api/v1/admin/exports/audit-log.csv", params=params, headers=admin.headers
            )
            return parse_csv(response)

        verified = await rows(action="nonprofit.verify", nonprofit_id=first.org.id)
        (entry,) = verified
        assert (entry["subject_type"], entry["subject_id"]) == ("nonprofit", first.org.id)
        assert (entry["actor_type"], entry["actor"]) == ("admin", reviewer.email)
        assert entry["before"] == '{"status":"pending_verification"}'
        assert entry["after"] == '{"status":"verified"}'
        assert {r["subject_id"] for r in await rows(subject_type="nonprofit")} == {
            first.org.id,
            second.org.id,
        }
        assert {r["actor"] for r in await rows(actor=reviewer.email.upper())} == {reviewer.email}
        assert await rows(since=(utcnow() + timedelta(minutes=5)).isoformat()) == []
        assert await rows(until=(utcnow() - timedelta(days=1)).isoformat()) == []

    async def test_newest_first_and_the_download_itself_is_recorded(
        self, client: httpx.AsyncClient, database: Database, two: tuple[Tenant, Tenant]
    ) -> None:
        admin = await insert_admin(database)

        response = await client.get("/api/v1/admin/exports/audit-log.csv", headers=admin.headers)

        rows = parse_csv(response)
        assert rows[0]["action"] == "export.download" and rows[0]["actor"] == admin.email
        assert [r["created_at"] for r in rows] == sorted((r["created_at"] for r in rows), reverse=True)
        assert header(response) == [
            "entry_id", "created_at", "actor_type", "actor_id", "actor", "action",
            "subject_type", "subject_id", "nonprofit_id", "before", "after", "note",
        ]  # fmt: skip


class TestConsoleDownloads:
    async def test_a_signed_in_admin_downloads_with_the_audit_pages_query_string(
        self, client: httpx.AsyncClient, database: Database, two: tuple[Tenant, Tenant]
    ) -> None:
        await signed_in_admin(client, database, role=AdminRole.FINANCE)
        today = utcnow().date().isoformat()

        audit_rows = parse_csv(
            await client.get(
                "/admin/exports/audit-log.csv",
                params={
                    "nonprofit": two[0].org.id,
                    "action": "nonprofit.verify",
                    "since": today,
                    "until": today,
                },
            )
        )
        donations = parse_csv(await client.get("/admin/exports/donations.csv"))
        matches = await client.get("/admin/exports/matches.csv")

        assert [(r["action"], r["subject_id"]) for r in audit_rows] == [("nonprofit.verify", two[0].org.id)]
        assert {r["nonprofit_id"] for r in donations} == {two[0].org.id, two[1].org.id}
        assert parse_csv(matches) == []
        assert matches.headers["cache-control"] == "no-store"
        assert matches.headers["content-disposition"].startswith('attachment; filename="goodloop-matches-')

    @pytest.mark.parametrize(
        ("path", "params"),
        [
            ("/admin/exports/audit-log.csv", {"since": "yesterday"}),
            ("/admin/exports/donations.csv", {"status": "nope"}),
            ("/admin/exports/matches.csv", {"nonprofit_id": "nope"}),
        ],
    )
    async def test_a_bad_filter_is_a_400_page(
        self, client: httpx.AsyncClient, database: Database, path: str, params: dict[str, str]
    ) -> None:
        await signed_in_admin(client, database)

        response = await client.get(path, params=params)

        assert response.status_code == 400
        assert error_code(response.text) == "invalid_filter"
        assert next(iter(params)) in response.text.lower()  # named in a sentence ("Since: ...")

    async def test_signed_out_goes_to_the_admin_login(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/admin/exports/donations.csv")

        assert response.status_code == 303
        assert response.headers["location"].startswith("/admin/login")

    async def test_a_nonprofit_members_session_is_not_an_admins(
        self, client: httpx.AsyncClient, two: tuple[Tenant, Tenant]
    ) -> None:
        await log_in(client, two[0].org.email)

        response = await client.get("/admin/exports/donations.csv")

        assert response.status_code == 303
        assert response.headers["location"].startswith("/admin/login")
        assert two[1].org.id not in response.text


def _export_link(page: httpx.Response, element_id: str) -> str:
    assert page.status_code == 200, page.text
    found = re.search(rf'id="{element_id}" href="([^"]+)"', page.text)
    assert found is not None, f"no #{element_id} link on the page"
    return html.unescape(found.group(1))


class TestConsoleExportLinks:
    async def test_the_audit_pages_export_link_downloads_what_the_page_lists(
        self, client: httpx.AsyncClient, database: Database, two: tuple[Tenant, Tenant]
    ) -> None:
        await signed_in_admin(client, database)
        page = await client.get(
            "/admin/audit-log", params={"action": "nonprofit.verify", "nonprofit": two[1].org.id}
        )

        rows = parse_csv(await client.get(_export_link(page, "export-audit-log")))

        assert [(r["action"], r["subject_id"]) for r in rows] == [("nonprofit.verify", two[1].org.id)]

    async def test_the_review_queues_export_link_takes_its_filters(
        self, client: httpx.AsyncClient, database: Database, two: tuple[Tenant, Tenant]
    ) -> None:
        await signed_in_admin(client, database)
        page = await client.get("/admin/matches", params={"status": "paid"})

        link = _export_link(page, "export-matches")
        response = await client.get(link)

        assert link.startswith("/admin/exports/matches.csv") and "status=paid" in link
        assert parse_csv(response) == []
