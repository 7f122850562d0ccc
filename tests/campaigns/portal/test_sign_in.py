"""Signing in to the donor portal: one-time links by email, no account enumeration, sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette

from campaigns.portal.models import DonorSignInLink
from service.app import create_app
from service.auth.secrets import token_digest
from service.clock import SettableClock
from service.db import Database
from service.settings import Settings
from tests.campaigns.giving.helpers import live
from tests.campaigns.giving.wall_helpers import give
from tests.campaigns.portal.helpers import ask_for_link, csrf_in, emails_to, follow_link, sign_in, token_in
from tests.mail_server import SmtpServer


class TestAskingForALink:
    async def test_the_email_carries_a_link_and_only_its_digest_is_stored(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        response = await ask_for_link(client, "  Ada@Example.org ")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/donor/sent")
        [message] = await emails_to(smtp_server, database, "ada@example.org")
        token = token_in(message.text)
        assert token_in(message.html) == token
        async with database.unit_of_work() as session:
            [link] = (await session.scalars(sa.select(DonorSignInLink))).all()
        assert link.email == "ada@example.org"
        assert link.token_digest == token_digest(token)
        assert token not in {link.token_digest, str(link.id)}

    async def test_known_and_unknown_addresses_get_the_same_answer_and_the_same_email(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        campaign = await live(client, database)
        await give(client, database, settings, campaign["slug"], email="donor@example.org")
        known = await ask_for_link(client, "donor@example.org")
        unknown = await ask_for_link(client, "stranger@example.org")
        assert (known.status_code, known.headers["location"]) == (
            unknown.status_code,
            unknown.headers["location"],
        )
        sent_page_known = await client.get(known.headers["location"])
        sent_page_unknown = await client.get(unknown.headers["location"])
        assert sent_page_known.text == sent_page_unknown.text
        [to_known] = [
            m for m in await emails_to(smtp_server, database, "donor@example.org") if "sign-in" in m.text
        ]
        [to_unknown] = await emails_to(smtp_server, database, "stranger@example.org")
        assert to_known.subject == to_unknown.subject
        assert token_in(to_known.text) != token_in(to_unknown.text)

    async def test_a_dutch_browser_gets_the_email_in_dutch(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        response = await ask_for_link(
            client, "anna@example.nl", headers={"Accept-Language": "nl-NL,nl;q=0.9"}
        )
        assert response.status_code == 303
        [message] = await emails_to(smtp_server, database, "anna@example.nl")
        assert message.language == "nl"
        assert "Je aanmeldlink" in message.subject

    async def test_not_an_address_is_refused_next_to_the_field(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        response = await ask_for_link(client, "not an address")
        assert response.status_code == 422
        assert 'id="email-error"' in response.text
        async with database.unit_of_work() as session:
            assert await session.scalar(sa.select(sa.func.count()).select_from(DonorSignInLink)) == 0

    async def test_links_for_one_address_are_rate_limited(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        for _ in range(5):
            assert (await ask_for_link(client, "ada@example.org")).status_code == 303
        refused = await ask_for_link(client, "ADA@example.org")
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        assert len(await emails_to(smtp_server, database, "ada@example.org")) == 5

    async def test_links_from_one_network_are_rate_limited_whatever_the_address(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        for n in range(30):
            assert (await ask_for_link(client, f"donor{n}@example.org")).status_code == 303
        refused = await ask_for_link(client, "one-more@example.org")
        assert refused.status_code == 429
        assert 'id="email-error"' in refused.text
        assert await emails_to(smtp_server, database, "one-more@example.org") == []


class TestFollowingTheLink:
    async def test_opening_the_link_spends_nothing_pressing_sign_in_does(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        await ask_for_link(client, "ada@example.org")
        [message] = await emails_to(smtp_server, database, "ada@example.org")
        token = token_in(message.text)
        for _ in range(3):  # a mail scanner fetching the link
            page = await client.get(f"/donor/sign-in/{token}")
            assert page.status_code == 200
            assert page.headers["referrer-policy"] == "no-referrer"
        signed_in = await follow_link(client, token)
        assert signed_in.status_code == 303
        cookie = signed_in.headers["set-cookie"]
        assert cookie.startswith("gl_donor=")
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/donor" in cookie
        home = await client.get("/donor")
        assert "Signed in as ada@example.org" in home.text

    async def test_a_link_works_once(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        await ask_for_link(client, "ada@example.org")
        [message] = await emails_to(smtp_server, database, "ada@example.org")
        token = token_in(message.text)
        assert (await follow_link(client, token)).status_code == 303
        transport = client._transport  # a second browser with the same link
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
            again = await follow_link(other, token)
            assert again.status_code == 410
            # Pressing Sign in on a page opened before the link was used spends nothing either.
            csrf = csrf_in((await other.get("/donor")).text)
            pressed = await other.post(f"/donor/sign-in/{token}", data={"csrf_token": csrf})
            assert pressed.status_code == 410
            assert "set-cookie" not in pressed.headers or "gl_donor=" not in pressed.headers["set-cookie"]
            assert "no longer works" in again.text
            assert "Signed in as" not in (await other.get("/donor")).text

    async def test_an_unknown_token_signs_in_nobody(self, client: httpx.AsyncClient) -> None:
        assert (await follow_link(client, "x" * 43)).status_code == 410


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(datetime(2026, 12, 5, 9, 0, tzinfo=UTC))


@pytest.fixture
async def clocked(
    settings: Settings, clock: SettableClock
) -> AsyncIterator[tuple[httpx.AsyncClient, Database]]:
    database = Database.from_url(settings.database_url, clock=clock)
    app: Starlette = create_app(settings, database=database)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                yield client, database
    finally:
        await database.dispose()


class TestExpiry:
    async def test_a_link_works_for_15_minutes(
        self, clocked: tuple[httpx.AsyncClient, Database], clock: SettableClock, smtp_server: SmtpServer
    ) -> None:
        client, database = clocked
        await ask_for_link(client, "ada@example.org")
        await ask_for_link(client, "bob@example.org")
        [ada] = await emails_to(smtp_server, database, "ada@example.org")
        [bob] = await emails_to(smtp_server, database, "bob@example.org")
        clock.advance(timedelta(minutes=14, seconds=59))
        assert (await follow_link(client, token_in(ada.text))).status_code == 303
        csrf = csrf_in((await client.get("/donor")).text)
        clock.advance(timedelta(seconds=1))
        assert (await client.get(f"/donor/sign-in/{token_in(bob.text)}")).status_code == 410
        pressed = await client.post(f"/donor/sign-in/{token_in(bob.text)}", data={"csrf_token": csrf})
        assert pressed.status_code == 410

    async def test_a_session_ends_after_two_hours(
        self, clocked: tuple[httpx.AsyncClient, Database], clock: SettableClock, smtp_server: SmtpServer
    ) -> None:
        client, database = clocked
        await sign_in(client, database, smtp_server, "ada@example.org")
        clock.advance(timedelta(hours=1, minutes=59))
        assert "Signed in as" in (await client.get("/donor")).text
        clock.advance(timedelta(minutes=1))
        assert "Signed in as" not in (await client.get("/donor")).text


class TestSigningOut:
    async def test_a_copied_cookie_opens_nothing_after_sign_out(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        await sign_in(client, database, smtp_server, "ada@example.org")
        copied = client.cookies.get("gl_donor")
        assert copied
        home = await client.get("/donor")
        out = await client.post("/donor/sign-out", data={"csrf_token": csrf_in(home.text)})
        assert out.status_code == 303
        client.cookies.set("gl_donor", copied, path="/donor")
        assert "Signed in as" not in (await client.get("/donor")).text
