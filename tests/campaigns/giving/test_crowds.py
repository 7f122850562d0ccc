"""Rate limits spare honest crowds on one network and still stop one browser or one email.

Every checkout here goes through the real SDK to the Stripe sandbox on a loopback port, so
"reached Stripe" means the sandbox holds a Checkout Session for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from service.app import create_app
from service.db import Database
from service.settings import Settings
from tests.campaigns.giving.helpers import form_token_in, live
from tests.payouts.helpers import Sandbox, running_sandbox

GALA_WIFI = "198.51.100.23"


@pytest.fixture
def stripe_sandbox(settings: Settings) -> Iterator[Sandbox]:
    with running_sandbox(settings) as sandbox:
        yield sandbox


@pytest.fixture
async def app(settings: Settings, database: Database, stripe_sandbox: Sandbox) -> AsyncIterator[Starlette]:
    application = create_app(settings, database=database, stripe_client=stripe_sandbox.client)
    async with application.router.lifespan_context(application):
        yield application


def browser(app: Starlette, address: str = GALA_WIFI, port: int = 40000) -> httpx.AsyncClient:
    """One browser (its own cookie jar) behind `address`."""
    transport = httpx.ASGITransport(app=app, client=(address, port))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def give_by_form(http: httpx.AsyncClient, slug: str, **fields: str) -> httpx.Response:
    page = await http.get(f"/c/{slug}")
    assert page.status_code == 200, page.text
    data = {"form_token": form_token_in(page.text), "currency": "eur", "amount": "25.00", **fields}
    return await http.post(f"/c/{slug}/donate", data=data)


async def give_by_api(http: httpx.AsyncClient, slug: str, **body: Any) -> httpx.Response:
    return await http.post(
        f"/api/v1/public/campaigns/{slug}/checkout",
        json={"amount_minor": 2500, "currency": "eur", **body},
    )


def sessions_at_stripe(sandbox: Sandbox) -> int:
    return sum(1 for obj in sandbox.state.objects.values() if obj.get("object") == "checkout.session")


class TestHonestCrowd:
    async def test_fifty_browsers_on_one_network_all_reach_stripe(
        self, app: Starlette, client: httpx.AsyncClient, database: Database, stripe_sandbox: Sandbox
    ) -> None:
        campaign = await live(client, database)
        slug = campaign["slug"]
        statuses = []
        for n in range(50):
            async with browser(app, port=40000 + n) as guest:
                email = f"guest{n}@gala.example"
                if n % 2:
                    # The JSON twin, from a page the browser opened (it has the device cookie).
                    assert (await guest.get(f"/c/{slug}")).status_code == 200
                    statuses.append((await give_by_api(guest, slug, email=email)).status_code)
                else:
                    statuses.append((await give_by_form(guest, slug, email=email)).status_code)

        assert statuses == [303 if n % 2 == 0 else 201 for n in range(50)]
        assert sessions_at_stripe(stripe_sandbox) == 50


class TestAttackers:
    async def test_one_browser_hammering_is_refused_and_its_neighbours_are_not(
        self, app: Starlette, client: httpx.AsyncClient, database: Database, stripe_sandbox: Sandbox
    ) -> None:
        campaign = await live(client, database)
        slug = campaign["slug"]
        async with browser(app) as hammer:
            assert (await hammer.get(f"/c/{slug}")).status_code == 200
            for _ in range(10):
                assert (await give_by_api(hammer, slug)).status_code == 201
            refused = await give_by_api(hammer, slug)
            refused_form = await give_by_form(hammer, slug)

        assert refused.status_code == 429
        assert refused.json()["error"] == "rate_limited"
        assert int(refused.headers["retry-after"]) > 0
        assert refused_form.status_code == 429
        assert "Too many donation attempts" in refused_form.text
        async with browser(app, port=40001) as neighbour:
            assert (await give_by_form(neighbour, slug)).status_code == 303
        assert sessions_at_stripe(stripe_sandbox) == 11

    async def test_one_email_hammering_from_many_browsers_is_refused(
        self, app: Starlette, client: httpx.AsyncClient, database: Database, stripe_sandbox: Sandbox
    ) -> None:
        campaign = await live(client, database)
        slug = campaign["slug"]
        statuses = []
        for n in range(7):
            async with browser(app, address=f"192.0.2.{n + 1}") as tester:
                response = await give_by_form(tester, slug, email="Card@Tester.example")
                statuses.append(response.status_code)

        assert statuses == [303] * 5 + [429] * 2
        assert sessions_at_stripe(stripe_sandbox) == 5

    async def test_a_client_dropping_its_cookie_is_still_one_browser(
        self, app: Starlette, client: httpx.AsyncClient, database: Database, stripe_sandbox: Sandbox
    ) -> None:
        campaign = await live(client, database)
        statuses = []
        for _ in range(11):
            async with browser(app) as script:  # a fresh client every time, never a cookie
                statuses.append((await give_by_api(script, campaign["slug"])).status_code)

        assert statuses == [201] * 10 + [429]

    async def test_fresh_cookies_from_one_network_hit_its_ceiling(
        self, app: Starlette, client: httpx.AsyncClient, database: Database, stripe_sandbox: Sandbox
    ) -> None:
        # Below the campaign minimum: counted by the limits, refused before Stripe, so the
        # ceiling is reached without creating two hundred sessions.
        campaign = await live(client, database, min_amount_minor=500)
        slug = campaign["slug"]
        for n in range(200):
            cookies = {"gl_device": f"invented-{n}"}
            async with browser(app) as tester:
                tester.cookies.update(cookies)
                assert (await give_by_api(tester, slug, amount_minor=100)).status_code == 422

        async with browser(app) as honest:
            assert (await honest.get(f"/c/{slug}")).status_code == 200
            refused = await give_by_api(honest, slug)
        async with browser(app, address="203.0.113.99") as elsewhere:
            assert (await elsewhere.get(f"/c/{slug}")).status_code == 200
            accepted = await give_by_api(elsewhere, slug)

        assert refused.status_code == 429
        assert "your network" in refused.json()["detail"]
        assert accepted.status_code == 201
