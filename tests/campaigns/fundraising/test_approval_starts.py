"""Starting a page (#15 review, part A): a form or API call sent twice starts one page and sends
one email; each creation limit refuses on its own while the other keys vary. On SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from campaigns.fundraising import limits, starting
from campaigns.fundraising.models import Fundraiser, FundraiserLink
from service.clock import SettableClock
from service.db import Database
from service.settings import Settings
from tests.campaigns.fundraising.helpers import mail_to, p2p_campaign, page_payload
from tests.mail_server import SmtpServer

PROXY_PEER = "203.0.113.7"
"""The test client's own address: trusted as a proxy here, so X-Forwarded-For picks the network."""
START = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, trusted_proxies=(ipaddress.ip_network(f"{PROXY_PEER}/32"),))


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(START)


@pytest.fixture
async def database(settings: Settings, clock: SettableClock) -> AsyncIterator[Database]:
    db = Database.from_url(settings.database_url, clock=clock)
    yield db
    await db.dispose()


async def _post(
    client: httpx.AsyncClient, slug: str, *, device: str, network: str, **fields: object
) -> httpx.Response:
    return await client.post(
        f"/api/v1/public/campaigns/{slug}/fundraisers",
        json=page_payload(**fields),
        headers={"Cookie": f"gl_device={device}", "X-Forwarded-For": network},
    )


async def _pages(database: Database) -> list[Fundraiser]:
    async with database.transaction() as session:
        return list((await session.scalars(sa.select(Fundraiser).order_by(Fundraiser.created_at))).all())


async def _links(database: Database) -> int:
    async with database.transaction() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(FundraiserLink)) or 0)


class TestTheSameStartTwice:
    async def test_a_second_identical_call_starts_nothing_and_emails_nothing(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        fields = {"email": "Twice@Example.org", "title": "I run 10 km"}

        first = await _post(client, campaign["slug"], device="d1", network="198.51.100.1", **fields)
        again = await _post(
            client,
            campaign["slug"],
            device="d2",
            network="198.51.100.2",
            **{**fields, "email": " twice@example.org ", "title": "I  run 10 km"},
        )

        assert first.status_code == again.status_code == 202
        assert first.json() == again.json()  # the same answer: nothing tells the second apart
        assert len(await _pages(database)) == 1 and await _links(database) == 1
        mails = await mail_to(smtp_server, database, "twice@example.org")
        assert len(mails) == 1

    async def test_another_title_or_a_start_after_ten_minutes_is_a_new_page(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, clock: SettableClock
    ) -> None:
        campaign = await p2p_campaign(client, database)
        slug = campaign["slug"]

        await _post(client, slug, device="d1", network="198.51.100.1", email="a@example.org", title="Run one")
        await _post(client, slug, device="d1", network="198.51.100.1", email="a@example.org", title="Run two")
        clock.advance(starting.REPEAT_WINDOW + timedelta(seconds=1))
        await _post(client, slug, device="d1", network="198.51.100.1", email="a@example.org", title="Run one")

        assert [p.title for p in await _pages(database)] == ["Run one", "Run two", "Run one"]
        assert len(await mail_to(smtp_server, database, "a@example.org")) == 3

    async def test_a_confirmed_page_is_not_reused(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        slug = campaign["slug"]
        await _post(client, slug, device="d1", network="198.51.100.1", email="c@example.org", title="Run")
        async with database.transaction() as session:
            await session.execute(sa.update(Fundraiser).values(status="live"))

        await _post(client, slug, device="d1", network="198.51.100.1", email="c@example.org", title="Run")

        assert len(await _pages(database)) == 2

    async def test_two_identical_calls_at_once_start_one_page(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        fields = {"email": "race@example.org", "title": "I run 10 km"}

        answers = await asyncio.gather(
            *(
                _post(client, campaign["slug"], device=f"d{n}", network=f"198.51.100.{n}", **fields)
                for n in range(1, 4)
            )
        )

        assert [a.status_code for a in answers] == [202, 202, 202]
        assert len(await _pages(database)) == 1 and await _links(database) == 1


class TestCreationLimits:
    async def test_one_browser_is_refused_on_its_own_with_email_and_network_varied(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await p2p_campaign(client, database)
        codes = []
        for n in range(limits.CREATE_PER_BROWSER.max_hits + 1):
            response = await _post(
                client,
                campaign["slug"],
                device="one-browser",
                network=f"198.51.100.{n + 1}",
                email=f"b{n}@example.org",
            )
            codes.append(response.status_code)
        other_browser = await _post(
            client, campaign["slug"], device="another", network="198.51.100.50", email="b50@example.org"
        )

        assert codes == [202] * limits.CREATE_PER_BROWSER.max_hits + [429]
        assert "browser" in response.json()["detail"]
        assert other_browser.status_code == 202

    async def test_one_network_is_refused_on_its_own_with_browser_and_email_varied(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await p2p_campaign(client, database)
        codes = []
        for n in range(limits.CREATE_PER_NETWORK.max_hits + 1):
            response = await _post(
                client,
                campaign["slug"],
                device=f"browser-{n}",
                network="198.51.100.7",
                email=f"n{n}@example.org",
            )
            codes.append(response.status_code)
        other_network = await _post(
            client, campaign["slug"], device="browser-x", network="198.51.100.8", email="nx@example.org"
        )

        assert codes == [202] * limits.CREATE_PER_NETWORK.max_hits + [429]
        assert "network" in response.json()["detail"]
        assert other_network.status_code == 202
