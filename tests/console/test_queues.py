"""Verification and moderation queues through the console pages."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from campaigns.campaign.models import Campaign
from campaigns.moderation import service as reports
from campaigns.moderation.models import ReportReason
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
            field_error(response.text, f"reject-reason-{org.id}") == "Write a reason: the nonprofit sees it."
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


async def campaign_status(database: Database, campaign_id: str) -> str:
    async with database.transaction() as session:
        found = await session.get(Campaign, uuid.UUID(campaign_id))
    assert found is not None
    return found.status.value


async def open_reports(database: Database, campaign_id: str) -> int:
    async with database.transaction() as session:
        return len(await reports.list_open_reports(session, campaign_id=uuid.UUID(campaign_id)))


async def report(database: Database, *, slug: str, message: str) -> None:
    async with database.transaction() as session:
        await reports.report_campaign(
            session,
            slug=slug,
            reason=ReportReason.MISLEADING,
            message=message,
            reporter_email=None,
            client_hash=None,
        )


@dataclass(frozen=True)
class Moderation:
    org: builders.Org
    admin: helpers.ConsoleAdmin


@pytest.fixture
async def moderation(
    client: httpx.AsyncClient, member_client: httpx.AsyncClient, database: Database
) -> Moderation:
    """A verified nonprofit and a reviewer signed in to the console."""
    org = await builders.sign_up(member_client)
    admin = await helpers.signed_in_admin(client, database)
    await builders.verify(client, admin.api, org)
    return Moderation(org=org, admin=admin)


async def submitted(client: httpx.AsyncClient, org: builders.Org, **overrides: Any) -> dict[str, Any]:
    campaign = await builders.create_campaign(client, org, **overrides)
    response = await client.post(f"/api/v1/campaigns/{campaign['id']}/submit", headers=org.headers)
    assert response.status_code == 200, response.text
    return campaign


class TestCampaignQueue:
    async def test_shows_the_story_its_flags_and_the_decisions(
        self, client: httpx.AsyncClient, moderation: Moderation
    ) -> None:
        campaign = await submitted(
            client,
            moderation.org,
            title="Boats for the flood",
            story="Send **bitcoin** to our wallet, or a Western Union transfer.",
        )

        page = await client.get("/admin/campaigns")

        assert page.status_code == 200
        card = item(page.text, f"campaign-{campaign['id']}")
        assert "Boats for the flood" in card
        assert "<strong>bitcoin</strong>" in card  # the sanitised story, as donors would see it
        flags = re.findall(
            r'<li class="content-flag" data-category="([a-z_]+)"><mark class="flag">([^<]+)</mark>', card
        )
        assert set(flags) == {("off_platform_payment", "western union"), ("crypto_or_investment", "bitcoin")}
        assert "Promises returns or asks for crypto" in card
        assert f'id="approve-{campaign["id"]}"' in card and f'id="reject-reason-{campaign["id"]}"' in card

    async def test_approving_through_the_page_puts_it_live_and_is_audited(
        self, client: httpx.AsyncClient, database: Database, moderation: Moderation
    ) -> None:
        campaign = await submitted(client, moderation.org)

        response = await submit(
            client,
            f"/admin/campaigns/{campaign['id']}/approve",
            {"note": "Looks right."},
            page="/admin/campaigns",
        )

        assert response.status_code == 303
        assert await campaign_status(database, campaign["id"]) == "live"
        [entry, *_] = await entries_for(database, subject_id=campaign["id"])
        assert (entry.action, entry.actor_label, entry.note) == (
            "campaign.approve",
            moderation.admin.email,
            "Looks right.",
        )

    async def test_rejecting_needs_a_reason_that_the_nonprofit_then_sees(
        self,
        client: httpx.AsyncClient,
        member_client: httpx.AsyncClient,
        database: Database,
        moderation: Moderation,
    ) -> None:
        campaign = await submitted(client, moderation.org)
        blank = await submit(client, f"/admin/campaigns/{campaign['id']}/reject", {}, page="/admin/campaigns")
        reason = "The story names another charity's project as your own."

        response = await submit(
            client, f"/admin/campaigns/{campaign['id']}/reject", {"reason": reason}, page="/admin/campaigns"
        )

        assert blank.status_code == 422
        assert (
            field_error(blank.text, f"reject-reason-{campaign['id']}")
            == "Write a reason: the nonprofit sees it."
        )
        assert response.status_code == 303
        assert await campaign_status(database, campaign["id"]) == "draft"
        await dashboard.log_in(member_client, moderation.org.email)
        own_page = await member_client.get(f"/dashboard/campaigns/{campaign['id']}")
        assert reason in html.unescape(own_page.text)

    async def test_pausing_through_the_page_stops_donations_until_a_moderator_resumes(
        self,
        client: httpx.AsyncClient,
        member_client: httpx.AsyncClient,
        database: Database,
        moderation: Moderation,
    ) -> None:
        campaign = await builders.live_campaign(client, moderation.org, moderation.admin.api)
        reason = "Checking donor reports of a copied story."

        paused = await submit(
            client, f"/admin/campaigns/{campaign['id']}/pause", {"reason": reason}, page="/admin/campaigns"
        )
        checkout = await client.post(
            f"/api/v1/public/campaigns/{campaign['slug']}/checkout",
            json={"amount_minor": 2500, "currency": "eur"},
        )
        own_resume = await client.post(
            f"/api/v1/campaigns/{campaign['id']}/resume", headers=moderation.org.headers
        )
        queue = (await client.get("/admin/campaigns")).text

        assert paused.status_code == 303
        assert await campaign_status(database, campaign["id"]) == "paused"
        assert (checkout.status_code, checkout.json()["error"]) == (409, "donations_closed")
        assert own_resume.status_code == 409
        card = item(queue, f"campaign-{campaign['id']}")
        assert f'<dd class="pause-reason">{reason}</dd>' in card
        await dashboard.log_in(member_client, moderation.org.email)
        own_page = (await member_client.get(f"/dashboard/campaigns/{campaign['id']}")).text
        assert reason in html.unescape(own_page)  # what the nonprofit is told
        no_reason = await submit(
            client, f"/admin/campaigns/{campaign['id']}/resume", {}, page="/admin/campaigns"
        )
        assert no_reason.status_code == 422
        assert await campaign_status(database, campaign["id"]) == "paused"
        resumed = await submit(
            client,
            f"/admin/campaigns/{campaign['id']}/resume",
            {"note": "The nonprofit showed the photographer's consent."},
            page="/admin/campaigns",
        )
        assert resumed.status_code == 303
        assert await campaign_status(database, campaign["id"]) == "live"
        actions = [e.action for e in await entries_for(database, subject_id=campaign["id"])]
        assert actions[:2] == ["campaign.admin_resume", "campaign.admin_pause"]

    async def test_reported_campaigns_are_listed_with_the_reports_until_resolved(
        self, client: httpx.AsyncClient, database: Database, moderation: Moderation
    ) -> None:
        campaign = await builders.live_campaign(client, moderation.org, moderation.admin.api)
        await report(database, slug=campaign["slug"], message="This is my photo, used without asking.")

        queue = (await client.get("/admin/campaigns")).text
        no_note = await submit(
            client, f"/admin/campaigns/{campaign['id']}/resolve", {}, page="/admin/campaigns"
        )
        resolved = await submit(
            client,
            f"/admin/campaigns/{campaign['id']}/resolve",
            {"note": "Photo replaced by the nonprofit."},
            page="/admin/campaigns",
        )
        after = (await client.get("/admin/campaigns")).text

        card = item(queue, f"campaign-{campaign['id']}")
        assert "This is my photo, used without asking." in card
        assert f'id="pause-{campaign["id"]}"' in card and f'id="resolve-{campaign["id"]}"' in card
        assert no_note.status_code == 422
        assert resolved.status_code == 303
        assert await open_reports(database, campaign["id"]) == 0
        assert f'id="campaign-{campaign["id"]}"' not in after
        [entry, *_] = await entries_for(database, subject_id=campaign["id"])
        assert (entry.action, entry.note) == ("campaign.reports_resolved", "Photo replaced by the nonprofit.")

    async def test_the_story_preview_is_the_sanitised_story(
        self, client: httpx.AsyncClient, moderation: Moderation
    ) -> None:
        campaign = await submitted(
            client,
            moderation.org,
            story='Hello <script>alert("x")</script><img src=x onerror=alert(1)> [link](javascript:alert(2))',
        )

        card = item((await client.get("/admin/campaigns")).text, f"campaign-{campaign['id']}")

        start = card.index(f'id="story-{campaign["id"]}"')
        story = card[start : card.index("</div>", start)]
        assert "<script" not in story and "<img" not in story and 'href="javascript' not in story
        assert "&lt;script&gt;" in story  # shown as text, never run

    async def test_a_decision_the_status_forbids_is_shown(
        self, client: httpx.AsyncClient, moderation: Moderation
    ) -> None:
        campaign = await builders.create_campaign(client, moderation.org)  # a draft

        response = await submit(
            client, f"/admin/campaigns/{campaign['id']}/approve", {}, page="/admin/campaigns"
        )

        assert response.status_code == 409
        assert "cannot approve a campaign that is draft" in (item_error(response.text, "queue") or "")

    async def test_unknown_decision_is_not_found(
        self, client: httpx.AsyncClient, moderation: Moderation
    ) -> None:
        campaign = await submitted(client, moderation.org)

        response = await submit(
            client, f"/admin/campaigns/{campaign['id']}/delete", {}, page="/admin/campaigns"
        )

        assert response.status_code == 404

    async def test_finance_cannot_pause(
        self, client: httpx.AsyncClient, database: Database, moderation: Moderation
    ) -> None:
        campaign = await builders.live_campaign(client, moderation.org, moderation.admin.api)
        await helpers.signed_in_admin(client, database, role=AdminRole.FINANCE)
        token = await helpers.page_token(client, "/admin")

        response = await client.post(
            f"/admin/campaigns/{campaign['id']}/pause", data={"csrf_token": token, "reason": "not my job"}
        )

        assert response.status_code == 403
        assert await campaign_status(database, campaign["id"]) == "live"
