"""A member's notification settings: their own on the dashboard (CSRF, audited, errors next to the
field), any member's of their organisation through an owner's API key, nobody else's."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from service.audit import AuditEntry
from service.db import Database
from tests import builders
from tests.campaigns.dashboard.helpers import csrf_token, field_error, log_in, submit
from tests.campaigns.notifications.helpers import add_member, set_notifications


async def audit_entries(database: Database, action: str) -> list[AuditEntry]:
    async with database.transaction() as session:
        return list(await session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


class TestNotificationsPage:
    async def test_a_viewer_saves_their_own_choices_and_the_change_is_audited(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        org = await builders.sign_up(client, country="NL")
        viewer = "viewer-page@harbor-relief.org"
        viewer_id = await add_member(client, org, viewer, role="viewer")  # signed in as the viewer now
        page = await client.get("/dashboard/notifications")
        assert page.status_code == 200
        assert 'value="daily" checked' in page.text
        assert '<option value="nl" selected>' in page.text

        saved = await submit(
            client,
            "/dashboard/notifications",
            {"gift_emails": "each", "language": "en"},  # money emails unticked: not sent at all
            page="/dashboard/notifications",
        )

        assert saved.status_code == 303
        again = (await client.get("/dashboard/notifications")).text
        assert "Your notification settings are saved." in again
        assert (
            'value="each" checked' in again and 'id="money_emails" name="money_emails" checked' not in again
        )
        api = (await client.get(f"/api/v1/members/{viewer_id}/notifications", headers=org.headers)).json()
        assert api == {
            "member_id": viewer_id,
            "gift_emails": "each",
            "money_emails": False,
            "language": "en",
            "chosen": True,
        }
        [entry] = await audit_entries(database, "member.notifications_changed")
        assert entry.actor_id == viewer_id
        assert entry.before == {"gift_emails": "daily", "money_emails": True, "language": "nl"}
        assert entry.after == {"gift_emails": "each", "money_emails": False, "language": "en"}

    async def test_an_unknown_choice_is_refused_next_to_its_field_and_nothing_changes(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        org = await builders.sign_up(client)
        await log_in(client, org.email)

        refused = await submit(
            client,
            "/dashboard/notifications",
            {"gift_emails": "hourly", "money_emails": "on", "language": "fr"},
            page="/dashboard/notifications",
        )

        assert refused.status_code == 422
        assert field_error(refused.text, "gift_emails")
        assert field_error(refused.text, "language")
        assert await audit_entries(database, "member.notifications_changed") == []

    async def test_without_a_csrf_token_nothing_is_saved(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        org = await builders.sign_up(client)
        await log_in(client, org.email)
        await csrf_token(client, "/dashboard/notifications")

        refused = await client.post(
            "/dashboard/notifications", data={"gift_emails": "none", "language": "en"}
        )

        assert refused.status_code == 403
        assert await audit_entries(database, "member.notifications_changed") == []


class TestNotificationsApi:
    async def test_bad_input_is_a_422_and_another_organisations_member_a_404(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        mine = await builders.sign_up(client)
        theirs = await builders.sign_up(client)
        their_member = (await client.get("/api/v1/members", headers=theirs.headers)).json()["data"][0]["id"]
        my_member = (await client.get("/api/v1/members", headers=mine.headers)).json()["data"][0]["id"]

        bad = await client.put(
            f"/api/v1/members/{my_member}/notifications",
            json={"gift_emails": "weekly", "money_emails": True, "language": "en"},
            headers=mine.headers,
        )
        foreign = await set_notifications(client, mine, their_member, gift_emails="none")

        assert bad.status_code == 422 and bad.json()["error"] == "validation_failed"
        assert foreign.status_code == 404 and foreign.json()["error"] == "member_not_found"
        theirs_now = await client.get(f"/api/v1/members/{their_member}/notifications", headers=theirs.headers)
        assert theirs_now.json()["chosen"] is False
