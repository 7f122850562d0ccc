"""X-Forwarded-For decides the client's address only when a configured proxy sent it."""

from __future__ import annotations

import dataclasses
import ipaddress

import httpx
import pytest
from starlette.applications import Starlette

from service.db import Database
from service.settings import Settings, SettingsError, load_settings
from service.web.context import forwarded_client
from tests.campaigns.giving.helpers import live
from tests.campaigns.giving.stripe_double import StripeDouble
from tests.service.test_settings import PRODUCTION

PROXY = "10.0.0.5"
TRUSTED = (ipaddress.ip_network("10.0.0.0/24"),)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, trusted_proxies=TRUSTED)


async def checkouts_from(app: Starlette, slug: str, *, peer: str, forwarded: list[str]) -> list[int]:
    """One cookieless checkout per X-Forwarded-For value, all from the same peer."""
    statuses = []
    transport = httpx.ASGITransport(app=app, client=(peer, 443))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        for value in forwarded:
            response = await http.post(
                f"/api/v1/public/campaigns/{slug}/checkout",
                json={"amount_minor": 2500, "currency": "eur"},
                headers={"X-Forwarded-For": value},
            )
            statuses.append(response.status_code)
    return statuses


class TestForwardedFor:
    async def test_from_an_untrusted_peer_the_header_is_ignored(
        self, app: Starlette, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)
        # A client inventing a new address each time is still one client.
        forged = [f"198.51.100.{n}" for n in range(11)]

        statuses = await checkouts_from(app, campaign["slug"], peer="203.0.113.40", forwarded=forged)

        assert statuses == [201] * 10 + [429]

    async def test_from_a_trusted_proxy_the_client_it_saw_is_used(
        self, app: Starlette, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)
        # Eleven people behind our load balancer; the left part is what each client claimed.
        forwarded = [f"6.6.6.6, 198.51.100.{n}, 10.0.0.9" for n in range(11)]

        statuses = await checkouts_from(app, campaign["slug"], peer=PROXY, forwarded=forwarded)

        assert statuses == [201] * 11


class TestForwardedClient:
    @pytest.mark.parametrize(
        ("peer", "header", "expected"),
        [
            ("203.0.113.40", ["198.51.100.1"], "203.0.113.40"),
            (PROXY, ["198.51.100.1"], "198.51.100.1"),
            (PROXY, ["1.1.1.1, 198.51.100.1, 10.0.0.9"], "198.51.100.1"),
            (PROXY, ["1.1.1.1", "198.51.100.1"], "198.51.100.1"),
            (PROXY, ["not-an-ip, 10.0.0.9"], "10.0.0.9"),
            (PROXY, [], PROXY),
        ],
    )
    def test_walks_from_the_right_past_trusted_proxies(
        self, peer: str, header: list[str], expected: str
    ) -> None:
        assert forwarded_client(peer, header, TRUSTED) == expected

    def test_nothing_is_trusted_without_configuration(self) -> None:
        assert forwarded_client("127.0.0.1", ["198.51.100.1"], ()) == "127.0.0.1"


class TestSetting:
    def test_development_trusts_loopback(self) -> None:
        settings = load_settings({"GOODLOOP_SECRET_KEY": "x" * 40})
        assert forwarded_client("127.0.0.1", ["198.51.100.1"], settings.trusted_proxies) == "198.51.100.1"

    def test_production_trusts_no_proxy_unless_told(self) -> None:
        assert load_settings(PRODUCTION).trusted_proxies == ()
        told = load_settings({**PRODUCTION, "GOODLOOP_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7"})
        assert [str(n) for n in told.trusted_proxies] == ["10.0.0.0/8", "192.0.2.7/32"]

    def test_a_malformed_entry_is_refused(self) -> None:
        with pytest.raises(SettingsError, match="GOODLOOP_TRUSTED_PROXIES"):
            load_settings({"GOODLOOP_SECRET_KEY": "x" * 40, "GOODLOOP_TRUSTED_PROXIES": "10.0.0.0/8, proxy"})
