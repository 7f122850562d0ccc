"""Forgot password, for members and admins: the same answer for every address (status, page and
one email to that address), a link that works once and for one hour, every session ended, a
confirmation email, audit-logged, rate limited per address and per network."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette

from campaigns.notifications.models import PasswordReset
from campaigns.notifications.purge import purge_notification_rows
from service.audit import AuditEntry
from service.clock import SettableClock
from service.db import Database, utcnow
from service.mail.models import MailMessage
from service.settings import Settings
from tests import builders
from tests.campaigns.dashboard.helpers import csrf_token, log_in, submit
from tests.campaigns.notifications.helpers import to
from tests.console.helpers import insert_console_admin, sign_in
from tests.mail_server import SmtpServer, parts

NEW_PASSWORD = "a much better passphrase"
RESET_LINK = re.compile(r"http://testserver(/(?:dashboard|admin)/reset-password/[A-Za-z0-9_-]+)")


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(utcnow())


@pytest.fixture
async def database(settings: Settings, clock: SettableClock) -> AsyncIterator[Database]:
    db = Database.from_url(settings.database_url, clock=clock)
    yield db
    await db.dispose()


@pytest.fixture
async def elsewhere(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser, on another network."""
    transport = httpx.ASGITransport(app=app, client=("198.51.100.66", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def ask(client: httpx.AsyncClient, email: str, *, area: str = "dashboard") -> httpx.Response:
    page = f"/{area}/forgot-password"
    return await submit(client, page, {"email": email}, page=page)


def reset_path(message: object) -> str:
    text, _ = parts(message)  # type: ignore[arg-type]
    match = RESET_LINK.search(text)
    assert match is not None, text
    return match.group(1)


async def outbox_rows(database: Database) -> list[tuple[str, str]]:
    async with database.transaction() as session:
        rows = await session.execute(
            sa.select(MailMessage.recipient, MailMessage.key).order_by(MailMessage.created_at)
        )
        return [(recipient, key) for recipient, key in rows]


async def opens(client: httpx.AsyncClient, page: str) -> bool:
    response = await client.get(page)
    assert response.status_code in (200, 303), response.text
    return response.status_code == 200


class TestNoEnumeration:
    async def test_a_known_and_an_unknown_address_get_the_same_answer_and_one_email_each(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        org = await builders.sign_up(client)
        unknown = "nobody-" + org.email  # the same length class, another address

        known_answer = await ask(client, org.email)
        unknown_answer = await ask(client, unknown)
        arrived = await smtp_server.deliver(database)

        assert known_answer.status_code == unknown_answer.status_code == 200
        assert known_answer.text.replace(org.email, "ADDRESS") == unknown_answer.text.replace(
            unknown, "ADDRESS"
        )
        assert set(known_answer.headers) == set(unknown_answer.headers)
        # One message to each typed address, nothing else: the outbox moved the same way.
        assert sorted(recipient for recipient, _ in await outbox_rows(database)) == sorted(
            [org.email, unknown]
        )
        [known_mail], [unknown_mail] = to(arrived, org.email), to(arrived, unknown)
        assert known_mail["Subject"] == unknown_mail["Subject"] == "Reset your Goodloop password"
        assert RESET_LINK.search(parts(known_mail)[0]) is not None
        assert RESET_LINK.search(parts(unknown_mail)[0]) is None
        assert "we have no active account with this address" in parts(unknown_mail)[0]

    async def test_too_many_requests_for_one_address_or_from_one_network_wait(
        self,
        client: httpx.AsyncClient,
        elsewhere: httpx.AsyncClient,
        database: Database,
        smtp_server: SmtpServer,
    ) -> None:
        answers = [(await ask(client, "someone@example.org")).status_code for _ in range(4)]
        from_elsewhere = await ask(elsewhere, "someone@example.org")
        network = [(await ask(elsewhere, f"other-{n}@example.org")).status_code for n in range(10)]

        assert answers == [200, 200, 200, 429]
        assert from_elsewhere.status_code == 429  # the address's allowance, on any network
        assert network.count(429) == 1 and network[-1] == 429  # 10 an hour from one network
        assert "wait an hour" in from_elsewhere.text
        assert int(from_elsewhere.headers["Retry-After"]) > 0
        assert len(await smtp_server.deliver(database)) == 3 + 9


class TestMemberReset:
    async def test_the_link_sets_a_password_once_ends_every_session_and_is_confirmed(
        self,
        client: httpx.AsyncClient,
        elsewhere: httpx.AsyncClient,
        database: Database,
        smtp_server: SmtpServer,
    ) -> None:
        org = await builders.sign_up(client)
        await log_in(elsewhere, org.email)
        assert await opens(elsewhere, "/dashboard")
        await ask(client, org.email)
        await ask(client, org.email)  # two links: one is used, the other dies with it
        other, used = (reset_path(m) for m in await smtp_server.deliver(database))

        form = await client.get(used)
        done = await submit(client, used, {"new_password": NEW_PASSWORD}, page=used)
        [confirmation] = await smtp_server.deliver(database)

        assert form.status_code == 200 and form.headers["Referrer-Policy"] == "no-referrer"
        assert done.status_code == 303 and done.headers["location"] == "/dashboard/login"
        assert not await opens(elsewhere, "/dashboard")  # signed out everywhere
        for link in (used, other):
            again = await client.get(link)
            assert again.status_code == 404
            assert "ask for a new one" in again.text
        assert confirmation["To"] == org.email
        assert confirmation["Subject"] == "Your Goodloop password was changed"
        await log_in(client, org.email, NEW_PASSWORD)
        async with database.transaction() as session:
            entry = await session.scalar(
                sa.select(AuditEntry).where(AuditEntry.action == "member.password_reset")
            )
        assert entry is not None and entry.after == {"sessions_ended": 1}

    async def test_a_weak_password_is_refused_next_to_the_field_and_the_link_still_works(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        org = await builders.sign_up(client)
        await ask(client, org.email)
        [mail] = await smtp_server.deliver(database)
        path = reset_path(mail)

        weak = await submit(client, path, {"new_password": "short"}, page=path)

        assert weak.status_code == 422
        assert 'id="new_password-error"' in weak.text
        assert (await client.get(path)).status_code == 200
        assert await smtp_server.deliver(database) == []
        await log_in(client, org.email)  # the old password still holds

    async def test_the_link_works_for_one_hour(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, clock: SettableClock
    ) -> None:
        org = await builders.sign_up(client)
        await ask(client, org.email)
        [mail] = await smtp_server.deliver(database)
        path = reset_path(mail)

        clock.advance(timedelta(minutes=59, seconds=59))
        assert (await client.get(path)).status_code == 200
        clock.advance(timedelta(seconds=1))
        token = await csrf_token(client, "/dashboard/forgot-password")
        late = await client.post(path, data={"csrf_token": token, "new_password": NEW_PASSWORD})

        assert late.status_code == 404
        assert "ask for a new one" in late.text
        await log_in(client, org.email)  # nothing changed

    async def test_an_admins_link_does_not_open_the_dashboard(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        admin = await insert_console_admin(database)
        await ask(client, admin.email, area="admin")
        [mail] = await smtp_server.deliver(database)
        token = reset_path(mail).rsplit("/", 1)[1]

        assert (await client.get(f"/dashboard/reset-password/{token}")).status_code == 404
        assert (await client.get(f"/admin/reset-password/{token}")).status_code == 200


class TestAdminReset:
    async def test_an_admin_resets_through_the_console_and_every_console_session_ends(
        self,
        client: httpx.AsyncClient,
        elsewhere: httpx.AsyncClient,
        database: Database,
        smtp_server: SmtpServer,
    ) -> None:
        admin = await insert_console_admin(database)
        await sign_in(elsewhere, admin)
        assert await opens(elsewhere, "/admin")
        login = await client.get("/admin/login")
        assert 'href="/admin/forgot-password"' in login.text

        await ask(client, admin.email, area="admin")
        [mail] = await smtp_server.deliver(database)
        path = reset_path(mail)
        assert path.startswith("/admin/reset-password/")
        done = await submit(client, path, {"new_password": NEW_PASSWORD}, page=path)

        assert done.status_code == 303 and done.headers["location"] == "/admin/login"
        assert not await opens(elsewhere, "/admin")
        await sign_in(client, admin.__class__(admin.id, admin.email, admin.token, NEW_PASSWORD))
        [confirmation] = await smtp_server.deliver(database)
        assert confirmation["To"] == admin.email
        async with database.transaction() as session:
            entry = await session.scalar(
                sa.select(AuditEntry).where(AuditEntry.action == "admin.password_reset")
            )
        assert entry is not None and entry.actor_id == str(admin.id)

    async def test_a_disabled_admin_gets_no_link(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        from tests.console.helpers import disable_admin

        admin = await insert_console_admin(database)
        await disable_admin(database, admin.id)

        answer = await ask(client, admin.email, area="admin")
        [mail] = await smtp_server.deliver(database)

        assert answer.status_code == 200
        assert RESET_LINK.search(parts(mail)[0]) is None


class TestOwnPasswordChange:
    async def test_changing_ones_own_password_is_confirmed_by_email(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        org = await builders.sign_up(client)
        await log_in(client, org.email)

        changed = await submit(
            client,
            "/dashboard/password",
            {"current_password": builders.PASSWORD, "new_password": NEW_PASSWORD},
            page="/dashboard/password",
        )
        [mail] = await smtp_server.deliver(database)

        assert changed.status_code == 303
        assert mail["To"] == org.email
        assert mail["Subject"] == "Your Goodloop password was changed"
        assert "http://testserver/dashboard/forgot-password" in parts(mail)[0]


class TestPurge:
    async def test_reset_links_go_a_day_after_their_hour_and_used_ones_too(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, clock: SettableClock
    ) -> None:
        org = await builders.sign_up(client)
        await ask(client, org.email)
        clock.advance(timedelta(hours=20))
        await ask(client, org.email)

        clock.advance(timedelta(hours=6))  # the first expired 25 hours ago, the second 5
        purged = await purge_notification_rows(database)

        assert purged == 1
        async with database.transaction() as session:
            left = list(await session.scalars(sa.select(PasswordReset.expires_at)))
        assert left == [clock.now() - timedelta(hours=5)]
