"""The audit log page: who, what, when, before, after, note; filters; paging; the export link."""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from campaigns.console.audit_pages import changes
from service import audit
from service.auth.models import AdminRole
from service.db import Database, utcnow
from service.pagination import next_cursor
from tests import builders
from tests.console import helpers


def rows(page: str) -> list[str]:
    """data-subject of each listed entry, in page order."""
    return re.findall(r'<tr class="audit-entry" data-action="[^"]*" data-subject="([^"]*)"', page)


def actions(page: str) -> list[str]:
    return re.findall(r'<tr class="audit-entry" data-action="([^"]*)"', page)


def link(page: str, link_id: str) -> str:
    tag = re.search(rf'<a [^>]*id="{link_id}"[^>]*>', page)
    assert tag is not None, f"no link {link_id}"
    href = re.search(r'href="([^"]*)"', tag.group(0))
    assert href is not None
    return html.unescape(href.group(1))


async def record(
    database: Database,
    *,
    action: str = "campaign.pause",
    subject_id: str | None = None,
    actor: str = "ops@goodloop.org",
    nonprofit_id: uuid.UUID | None = None,
    created_at: datetime | None = None,
) -> audit.AuditEntry:
    """An entry as an admin decision writes it; `created_at` set at insert (the log is append-only)."""
    entry = audit.AuditEntry(
        created_at=created_at or utcnow(),
        actor_type=audit.ActorType.ADMIN,
        actor_id=str(uuid.uuid4()),
        actor_label=actor,
        action=action,
        subject_type="campaign",
        subject_id=subject_id or str(uuid.uuid4()),
        nonprofit_id=nonprofit_id,
        before={"status": "live"},
        after={"status": "paused"},
        note="copied story <script>",
    )
    async with database.transaction() as session:
        session.add(entry)
    return entry


class TestAuditLogPage:
    async def test_shows_who_what_when_before_after_and_note(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        admin = await helpers.signed_in_admin(client, database, role=AdminRole.FINANCE)
        entry = await record(database, actor=admin.email)

        page = (await client.get("/admin/audit-log")).text

        assert rows(page)[0] == f"campaign:{entry.subject_id}"
        assert admin.email in page and "campaign.pause" in page
        assert "&#34;status&#34;: &#34;live&#34;" in page and "&#34;status&#34;: &#34;paused&#34;" in page
        assert "copied story &lt;script&gt;" in page
        assert entry.created_at.strftime("%Y-%m-%d %H:%M:%S") in page

    async def test_filters_by_action_actor_subject_and_nonprofit(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        await helpers.signed_in_admin(client, database)
        org = uuid.uuid4()
        paused = await record(database, action="campaign.pause", actor="a@goodloop.org")
        resumed = await record(database, action="campaign.resume", actor="b@goodloop.org", nonprofit_id=org)

        by_action = (await client.get("/admin/audit-log?action=campaign.resume")).text
        by_actor = (await client.get("/admin/audit-log?actor=A@Goodloop.org")).text
        by_subject = (
            await client.get(f"/admin/audit-log?subject_type=campaign&subject_id={paused.subject_id}")
        ).text
        by_nonprofit = (await client.get(f"/admin/audit-log?nonprofit={org}")).text

        assert rows(by_action) == [f"campaign:{resumed.subject_id}"]
        assert rows(by_actor) == [f"campaign:{paused.subject_id}"]
        assert rows(by_subject) == [f"campaign:{paused.subject_id}"]
        assert rows(by_nonprofit) == [f"campaign:{resumed.subject_id}"]

    async def test_filters_by_utc_days_both_ends_included(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        await helpers.signed_in_admin(client, database)
        await record(database, created_at=datetime(2026, 11, 1, 23, 59, tzinfo=UTC), subject_id="nov1")
        await record(database, created_at=datetime(2026, 11, 2, 0, 0, tzinfo=UTC), subject_id="nov2")
        await record(database, created_at=datetime(2026, 11, 3, 12, 0, tzinfo=UTC), subject_id="nov3")

        page = (await client.get("/admin/audit-log?since=2026-11-02&until=2026-11-03")).text
        only_first = (await client.get("/admin/audit-log?until=2026-11-01")).text

        assert rows(page) == ["campaign:nov3", "campaign:nov2"]
        assert rows(only_first) == ["campaign:nov1"]

    async def test_bad_filters_are_named_next_to_their_field(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        await helpers.signed_in_admin(client, database)
        await record(database)

        page = await client.get(
            "/admin/audit-log?subject_type=campaign&nonprofit=42&since=yesterday&actor=a%20b"
        )

        assert page.status_code == 200
        assert 'id="nonprofit-error">Not an id' in page.text
        assert 'id="since-error">Use a date like 2026-11-28' in page.text
        assert 'id="actor-error">' in page.text
        assert len(rows(page.text)) == 1  # the bad fields are ignored, the rest still lists

    async def test_pages_newest_first_without_gaps_or_repeats(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        await helpers.signed_in_admin(client, database)
        start = datetime(2026, 11, 1, tzinfo=UTC)
        for i in range(55):
            # Pairs share a timestamp: the cursor must break ties by id.
            await record(database, subject_id=f"e{i:02d}", created_at=start + timedelta(minutes=i // 2))

        first = (await client.get("/admin/audit-log?action=campaign.pause")).text
        second = (await client.get(link(first, "older-page"))).text

        seen = rows(first) + rows(second)
        assert len(rows(first)) == 50
        assert sorted(seen) == sorted(f"campaign:e{i:02d}" for i in range(55))
        assert seen[0] in ("campaign:e54",)
        assert 'id="older-page"' not in second
        assert "action=campaign.pause" in link(second, "newest-page")

    async def test_export_link_carries_the_filters(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        await helpers.signed_in_admin(client, database)

        page = (await client.get("/admin/audit-log?action=nonprofit.verify&actor=ops%40goodloop.org")).text

        assert link(page, "export-audit-log") == (
            "/admin/exports/audit-log.csv?action=nonprofit.verify&actor=ops%40goodloop.org"
        )

    async def test_decisions_made_through_the_api_appear(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        admin = await helpers.signed_in_admin(client, database)
        org = await builders.sign_up(client)
        await builders.verify(client, admin.api, org)

        page = (await client.get(f"/admin/audit-log?nonprofit={org.id}")).text

        assert actions(page) == ["nonprofit.verify"]
        assert "nonprofit.verify" in re.findall(r'<option value="([^"]+)"', page)


class TestListEntries:
    async def test_cursor_continues_after_ties(self, database: Database) -> None:
        same = utcnow().replace(microsecond=0)
        made = [await record(database, created_at=same) for _ in range(3)]
        where = audit.AuditFilter(subject_type="campaign")

        async with database.transaction() as session:
            first = list(await audit.list_entries(session, where=where, limit=3))
            cursor = next_cursor(first, 2)
            rest = list(await audit.list_entries(session, where=where, limit=3, cursor=cursor))

        assert cursor is not None
        assert [e.id for e in first[:2] + rest] == sorted((e.id for e in made), reverse=True)


class TestChanges:
    def test_only_fields_that_moved_are_listed(self) -> None:
        moved = changes(
            {"status": "live", "title": "Coats", "gone": 1},
            {"status": "paused", "title": "Coats", "new": None},
        )

        assert [(c.key, c.before, c.after) for c in moved] == [
            ("gone", "1", None),
            ("new", None, "null"),
            ("status", "live", "paused"),
        ]

    def test_a_creation_lists_every_field(self) -> None:
        assert [c.key for c in changes(None, {"b": [1, 2], "a": "x"})] == ["a", "b"]
