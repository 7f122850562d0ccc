"""Verification and moderation queues through the console pages."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from campaigns.nonprofits.models import Nonprofit
from service import audit
from service.auth.models import AdminRole
from service.db import Database
from tests import builders
from tests.campaigns.dashboard import helpers as dashboard
from tests.campaigns.dashboard.helpers import error_code
from tests.console import helpers
from tests.console.helpers import submit


@pytest.fixture
async def member_client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A second browser, for the nonprofit's people (signing in there never signs the admin out)."""
    transport = httpx.ASGITransport(app=app, client=("198.51.100.20", 50001))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def field_error(page: str, field_id: str) -> str | None:
    match = re.search(rf'<p class="field-error" id="{re.escape(field_id)}-error">(.*?)</p>', page, re.S)
    return html.unescape(match.group(1)) if match else None


def item_error(page: str, item_id: str) -> str | None:
    match = re.search(
        rf'<p class="form-error" id="{re.escape(item_id)}-error" role="alert">(.*?)</p>', page, re.S
    )
    return html.unescape(match.group(1)) if match else None


def item(page: str, item_id: str) -> str:
    start = page.index(f'id="{item_id}"')
    end = page.find("</article>", start)
    return page[start:end]


async def entries_for(database: Database, *, subject_id: str) -> list[audit.AuditEntry]:
    async with database.transaction() as session:
        return list(await audit.list_entries(session, subject_id=subject_id))


async def nonprofit_row(database: Database, nonprofit_id: str) -> Nonprofit:
    async with database.transaction() as session:
        found = await session.get(Nonprofit, uuid.UUID(nonprofit_id))
    assert found is not None
    return found


class TestNonprofitQueue:
    async def test_lists_what_a_reviewer_needs_to_decide(
        self, client: httpx.AsyncClient, member_client: httpx.AsyncClient, database: Database
    ) -> None:
        org = await builders.sign_up(
            member_client, name="Harbor Relief Cork", country="IE", website="https://harbor.ie"
        )
        async with database.transaction() as session:
            row = await session.get(Nonprofit, uuid.UUID(org.id))
            assert row is not None
            row.stripe_account_id = "acct_harbor1"
            row.charges_enabled = True
            row.requirements_due = ["external_account", "individual.verification.document"]
        await helpers.signed_in_admin(client, database)

        page = await client.get("/admin/nonprofits")

        assert page.status_code == 200
        card = item(page.text, f"nonprofit-{org.id}")
        assert "Harbor Relief Cork" in card
        assert '<dd class="registration-number">CHY ' in card
        assert "https://harbor.ie" in card and "<dd>IE</dd>" in card
        assert org.email in card and "owner" in card
        assert "acct_harbor1" in card
        assert re.search(r'class="charges-enabled"><span class="status status-live">yes', card)
        assert re.search(r'class="payouts-enabled"><span class="status status-rejected">no', card)
        assert "external_account, individual.verification.document" in card
        assert f'id="verify-{org.id}"' in card and f'id="reject-reason-{org.id}"' in card

    async def test_only_the_chosen_status_is_listed(
        self, client: httpx.AsyncClient, member_client: httpx.AsyncClient, database: Database
    ) -> None:
        admin = await helpers.signed_in_admin(client, database)
        waiting = await builders.sign_up(member_client)
        verified = await builders.sign_up(member_client)
        await builders.verify(client, admin.api, verified)

        pending_page = (await client.get("/admin/nonprofits")).text
        verified_page = (await client.get("/admin/nonprofits?status=verified")).text

        assert f'id="nonprofit-{waiting.id}"' in pending_page
        assert f'id="nonprofit-{verified.id}"' not in pending_page
        assert f'id="nonprofit-{verified.id}"' in verified_page

    async def test_verifying_through_the_page_is_audited(
        self, client: httpx.AsyncClient, member_client: httpx.AsyncClient, database: Database
    ) -> None:
        org = await builders.sign_up(member_client, name="Harbor Relief Galway")
        admin = await helpers.signed_in_admin(client, database)

        response = await submit(
            client,
            f"/admin/nonprofits/{org.id}/verify",
            {"note": "registry entry checked", "tab": "pending_verification"},
            page="/admin/nonprofits",
        )

        assert response.status_code == 303
        assert response.headers["location"] == "/admin/nonprofits?status=pending_verification"
        assert "Harbor Relief Galway is verified." in (await client.get(response.headers["location"])).text
        assert (await nonprofit_row(database, org.id)).status.value == "verified"
        [entry] = await entries_for(database, subject_id=org.id)
        assert (entry.action, entry.actor_label, entry.note) == (
            "nonprofit.verify",
            admin.email,
            "registry entry checked",
        )
        assert (entry.before, entry.after) == ({"status": "pending_verification"}, {"status": "verified"})

    async def test_rejecting_needs_a_reason(
        self, client: httpx.AsyncClient, member_client: httpx.AsyncClient, database: Database
    ) -> None:
        org = await builders.sign_up(member_client)
        await helpers.signed_in_admin(client, database)

        response = await submit(
            client, f"/admin/nonprofits/{org.id}/reject", {"reason": "  "}, page="/admin/nonprofits"
        )

        assert response.status_code == 422
        assert (
            field_error(response.text, f"reject-reason-{org.id}") == "write a reason: the nonprofit sees it"
        )
        assert (await nonprofit_row(database, org.id)).status.value == "pending_verification"
        assert await entries_for(database, subject_id=org.id) == []

    async def test_the_rejection_reason_is_what_the_nonprofit_sees(
        self, client: httpx.AsyncClient, member_client: httpx.AsyncClient, database: Database
    ) -> None:
        org = await builders.sign_up(member_client)
        await helpers.signed_in_admin(client, database)
        reason = "The registration number does not match the charity register."

        response = await submit(
            client, f"/admin/nonprofits/{org.id}/reject", {"reason": reason}, page="/admin/nonprofits"
        )

        assert response.status_code == 303
        [entry] = await entries_for(database, subject_id=org.id)
        assert (entry.action, entry.note) == ("nonprofit.reject", reason)
        await dashboard.log_in(member_client, org.email)
        home = await member_client.get("/dashboard")
        assert f"Verification was refused: {reason}" in html.unescape(home.text)

    async def test_a_decision_the_status_forbids_is_shown_on_the_item(
        self, client: httpx.AsyncClient, member_client: httpx.AsyncClient, database: Database
    ) -> None:
        org = await builders.sign_up(member_client)
        admin = await helpers.signed_in_admin(client, database)
        await builders.verify(client, admin.api, org)

        response = await submit(client, f"/admin/nonprofits/{org.id}/verify", {}, page="/admin/nonprofits")

        assert response.status_code == 409
        assert "cannot become verified" in (item_error(response.text, "queue") or "")
        on_its_tab = await submit(
            client, f"/admin/nonprofits/{org.id}/verify", {"tab": "verified"}, page="/admin/nonprofits"
        )
        assert "cannot become verified" in (item_error(on_its_tab.text, f"nonprofit-{org.id}") or "")

    async def test_finance_cannot_decide(
        self, client: httpx.AsyncClient, member_client: httpx.AsyncClient, database: Database
    ) -> None:
        org = await builders.sign_up(member_client)
        await helpers.signed_in_admin(client, database, role=AdminRole.FINANCE)
        token = await helpers.page_token(client, "/admin")

        response = await client.post(f"/admin/nonprofits/{org.id}/verify", data={"csrf_token": token})

        assert response.status_code == 403
        assert (await nonprofit_row(database, org.id)).status.value == "pending_verification"

    async def test_a_decision_without_the_csrf_token_is_refused(
        self, client: httpx.AsyncClient, member_client: httpx.AsyncClient, database: Database
    ) -> None:
        org = await builders.sign_up(member_client)
        await helpers.signed_in_admin(client, database)

        response = await client.post(f"/admin/nonprofits/{org.id}/reject", data={"reason": "forged request"})

        assert response.status_code == 403
        assert error_code(response.text) == "csrf_failed"
        assert (await nonprofit_row(database, org.id)).status.value == "pending_verification"

    async def test_signed_out_post_goes_to_the_login_page(
        self, client: httpx.AsyncClient, member_client: httpx.AsyncClient
    ) -> None:
        org = await builders.sign_up(member_client)

        response = await client.post(f"/admin/nonprofits/{org.id}/verify", data={})

        assert response.status_code == 303
        assert response.headers["location"] == "/admin/login"
