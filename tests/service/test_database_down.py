"""PostgreSQL only: the database goes away under a running app, then comes back.

The app talks to PostgreSQL through a TCP proxy the test owns; cutting it drops the open
connections and refuses new ones, as a database host going down does. Every surface must
then answer 503 with Retry-After (a page for people, JSON for clients, 503 for Stripe so it
redelivers), and the very next request after the database is back must succeed.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from starlette.applications import Starlette

from campaigns.donations.models import DonationStatus
from service.app import create_app
from service.auth.models import AdminRole
from service.db import Database
from service.settings import Settings
from service.stripe_gateway import create_client
from tests import builders
from tests.campaigns.dashboard.helpers import log_in
from tests.campaigns.giving.helpers import form_token_in
from tests.campaigns.giving.stripe_double import StripeDouble
from tests.console.helpers import insert_console_admin, sign_in
from tests.service.log_capture import Logs
from tests.webhooks.builders import LiveCampaign, deliver, get_donation, insert_donation
from tests.webhooks.proxy import Proxy
from tests.webhooks.scenarios import SCENARIOS
from tests.webhooks.stripe_events import Payment, new_id

ON_POSTGRES = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)

Call = Callable[[], Awaitable[httpx.Response]]


@dataclass(frozen=True)
class World:
    org: builders.Org
    campaign_id: str
    slug: str


@dataclass
class Outage:
    proxy: Proxy
    app: Starlette
    client: httpx.AsyncClient
    admin_client: httpx.AsyncClient


async def make_world(client: httpx.AsyncClient, database: Database) -> World:
    org = await builders.sign_up(client)
    admin = await builders.insert_admin(database)
    await builders.verify(client, admin, org)
    campaign = await builders.live_campaign(client, org, admin)
    return World(org=org, campaign_id=campaign["id"], slug=campaign["slug"])


@pytest.fixture
async def world(client: httpx.AsyncClient, database: Database) -> World:
    return await make_world(client, database)


@pytest.fixture
async def outage(
    request: pytest.FixtureRequest,
    db_url: str,
    settings: Settings,
    json_logs: Logs,
) -> AsyncIterator[Outage]:
    """The app on a Database behind the proxy, with its in-process worker running (logging as
    JSON until it has stopped)."""
    assert db_url.startswith("postgresql")
    url = make_url(db_url)
    proxy = Proxy(target_host=url.host or "127.0.0.1", target_port=url.port or 5432)
    await proxy.start()
    proxied = Database.from_url(
        url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    )
    stripe_client = create_client(settings, http_client=StripeDouble())
    run_worker: bool = getattr(request, "param", {}).get("run_worker", True)
    app = create_app(settings, database=proxied, stripe_client=stripe_client, run_worker=run_worker)
    try:
        async with app.router.lifespan_context(app):
            # raise_app_exceptions: an exception escaping the app is a dropped connection in
            # production; here it fails the test instead of passing as a status code.
            transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 41000))
            async with (
                httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
                httpx.AsyncClient(transport=transport, base_url="http://testserver") as admin_client,
            ):
                yield Outage(proxy=proxy, app=app, client=client, admin_client=admin_client)
    finally:
        await proxied.dispose()
        if proxy._server is not None:
            await proxy.cut()


def surfaces(
    outage: Outage, world: World, settings: Settings, campaign: LiveCampaign, form_token: str
) -> dict[str, tuple[Call, int]]:
    """What a donor, a client, Stripe, a member and an admin do, and the status when all is well."""
    c = outage.client

    async def campaign_page() -> httpx.Response:
        return await c.get(f"/c/{world.slug}")

    async def api_get() -> httpx.Response:
        return await c.get(f"/api/v1/campaigns/{world.campaign_id}", headers=world.org.headers)

    async def api_post() -> httpx.Response:
        return await c.post("/api/v1/campaigns", json=builders.campaign_payload(), headers=world.org.headers)

    async def public_checkout() -> httpx.Response:
        return await c.post(
            f"/api/v1/public/campaigns/{world.slug}/checkout",
            json={"amount_minor": 2500, "currency": "eur", "email": "donor@example.org"},
        )

    async def webhook() -> httpx.Response:
        # A new, handled event each time, so "stored" is never a duplicate's answer.
        evt = SCENARIOS["expired"](_payment(campaign))[0]
        evt["id"] = f"evt_{uuid.uuid4().hex}"
        return await deliver(c, evt, settings.webhook_secret)

    async def donate_form() -> httpx.Response:
        # The page's signed form token, read while the database was up.
        return await c.post(
            f"/c/{world.slug}/donate", data={"form_token": form_token, "currency": "eur", "amount": "25"}
        )

    async def dashboard() -> httpx.Response:
        return await c.get("/dashboard")

    async def console() -> httpx.Response:
        return await outage.admin_client.get("/admin")

    return {
        "campaign page": (campaign_page, 200),
        "donate form": (donate_form, 303),
        "API GET": (api_get, 200),
        "API POST": (api_post, 201),
        "public checkout": (public_checkout, 201),
        "webhook intake": (webhook, 200),
        "dashboard": (dashboard, 200),
        "console": (console, 200),
    }


def _payment(campaign: LiveCampaign) -> Payment:
    return Payment(
        donation_id=uuid.uuid4(), session_id=new_id("cs_test"), amount_minor=1000, currency=campaign.currency
    )


async def signed_in(outage: Outage, world: World, database: Database) -> None:
    """A member signed in on one client, an admin on the other."""
    await log_in(outage.client, world.org.email)
    admin = await insert_console_admin(database, role=AdminRole.SUPERADMIN)
    await sign_in(outage.admin_client, admin)


def assert_unavailable(name: str, response: httpx.Response) -> None:
    assert response.status_code == 503, f"{name}: {response.status_code} {response.text[:300]}"
    retry_after = response.headers.get("retry-after", "")
    assert retry_after.isdigit() and int(retry_after) > 0, f"{name}: Retry-After {retry_after!r}"
    if name in {"campaign page", "donate form", "dashboard", "console"}:
        assert response.headers["content-type"].startswith("text/html"), name
        assert "try again in a minute" in response.text, name
    else:
        body = response.json()
        expected = "inbox_unavailable" if name == "webhook intake" else "service_unavailable"
        assert body["error"] == expected, f"{name}: {body}"
        assert body["detail"], name


@ON_POSTGRES
class TestDatabaseDown:
    async def test_every_surface_answers_503_with_retry_after_then_recovers(
        self,
        outage: Outage,
        world: World,
        database: Database,
        settings: Settings,
        json_logs: Logs,
    ) -> None:
        campaign = LiveCampaign(
            id=uuid.UUID(world.campaign_id), nonprofit_id=uuid.UUID(world.org.id), currency="eur"
        )
        await signed_in(outage, world, database)
        page = await outage.client.get(f"/c/{world.slug}")
        calls = surfaces(outage, world, settings, campaign, form_token_in(page.text))
        for name, (call, ok) in calls.items():
            assert (await call()).status_code == ok, f"{name} before the outage"

        json_logs()
        await outage.proxy.cut()
        for name, (call, _) in calls.items():
            assert_unavailable(name, await call())
        # Twice: the second round meets a pool that already knows the database is gone.
        for name, (call, _) in calls.items():
            assert_unavailable(name, await call())
        assert (await outage.client.get("/healthz")).status_code == 200
        ready = await outage.client.get("/readyz")
        assert ready.status_code == 503
        assert ready.headers.get("retry-after", "").isdigit()
        # An outage is logged as what it is, in one line per request: no error, no traceback.
        during = json_logs()
        assert [line for line in during if line["level"] == "error" or "exception" in line] == []
        assert sum(line["event"] == "database unavailable" for line in during) >= 2 * (len(calls) - 1)

        await outage.proxy.start()
        for name, (call, ok) in calls.items():
            response = await call()
            assert response.status_code == ok, (
                f"{name} after recovery: {response.status_code} {response.text[:300]}"
            )
        assert (await outage.client.get("/readyz")).status_code == 200

    async def test_the_in_process_worker_keeps_running_and_confirms_gifts_after_recovery(
        self,
        outage: Outage,
        world: World,
        database: Database,
        settings: Settings,
        json_logs: Logs,
    ) -> None:
        campaign = LiveCampaign(
            id=uuid.UUID(world.campaign_id), nonprofit_id=uuid.UUID(world.org.id), currency="eur"
        )
        payment = await insert_donation(database, campaign, amount_minor=4200)
        json_logs()
        await outage.proxy.cut()
        # Let the worker meet the outage a few times over (it polls every second when idle).
        await asyncio.sleep(2.5)
        worker_lines = [line for line in json_logs() if line["logger"] == "goodloop.worker"]
        await outage.proxy.start()
        for evt in SCENARIOS["card"](payment):
            assert (await deliver(outage.client, evt, settings.webhook_secret)).status_code == 200
        donation = await get_donation(database, str(payment.donation_id))
        for _ in range(300):
            if donation.status is DonationStatus.CONFIRMED:
                break
            await asyncio.sleep(0.1)
            donation = await get_donation(database, str(payment.donation_id))
        assert donation.status is DonationStatus.CONFIRMED
        # It met the outage and said so in a line each time, without a traceback.
        assert worker_lines
        assert {line["event"] for line in worker_lines} == {"worker job waits for the database"}
        assert all(line["level"] == "warning" and "exception" not in line for line in worker_lines)

    # No worker: its jobs would meet the closed connections first and spare the requests.
    @pytest.mark.parametrize("outage", [{"run_worker": False}], indirect=True)
    async def test_a_database_restart_between_requests_costs_no_request(
        self, outage: Outage, world: World, database: Database, settings: Settings
    ) -> None:
        campaign = LiveCampaign(
            id=uuid.UUID(world.campaign_id), nonprofit_id=uuid.UUID(world.org.id), currency="eur"
        )
        await signed_in(outage, world, database)
        page = await outage.client.get(f"/c/{world.slug}")
        calls = surfaces(outage, world, settings, campaign, form_token_in(page.text))
        for name, (call, ok) in calls.items():
            assert (await call()).status_code == ok, f"{name} before the restart"

        # What a restart does to the app's pooled connections, moments after their last use
        # (too soon for the idle ping): the server ends every one of them.
        await terminate_other_backends(database)

        for name, (call, ok) in calls.items():
            response = await call()
            assert response.status_code == ok, f"{name} after the restart: {response.status_code}"


async def terminate_other_backends(database: Database) -> None:
    # Only the test's own database (a fresh one per session), never the server's others.
    others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    async with database.single_statement() as conn:
        await conn.execute(sa.text(f"SELECT pg_terminate_backend(pid) {others}"))
        # A backend closes its socket as it exits: once none is left, every client end has
        # been told, and the loop needs only a turn to read it.
        while (await conn.execute(sa.text(f"SELECT pid {others}"))).first() is not None:
            await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
