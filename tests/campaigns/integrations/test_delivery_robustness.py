"""Delivery robustness: odd receiver answers, odd URLs, fair claiming, replays and retries."""

from __future__ import annotations

import asyncio
import typing
import uuid
from datetime import timedelta

import httpcore
import httpx
import pytest
import sqlalchemy as sa

from campaigns.integrations import addresses, endpoints, transport
from campaigns.integrations.endpoint_models import (
    AttemptOutcome,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from campaigns.integrations.errors import TooManyEndpoints
from campaigns.integrations.transport import SendPolicy
from campaigns.nonprofits.actors import Actor
from campaigns.nonprofits.models import MemberRole
from service.clock import SettableClock
from service.db import Database
from service.settings import Settings
from service.unit_of_work import UnitOfWork
from tests import builders
from tests.campaigns.dashboard.helpers import log_in, submit
from tests.campaigns.integrations.conftest import (
    add_endpoint,
    attempts_of,
    deliveries_of,
    dispatcher,
    emit,
    endpoint_row,
)
from tests.campaigns.integrations.receiver import Receiver


class TestOddAnswers:
    async def test_an_answer_with_nul_bytes_is_delivered_once_and_logged(
        self, wh_client: httpx.AsyncClient, wh_database: Database, wh_settings: Settings, receiver: Receiver
    ) -> None:
        org = await builders.sign_up(wh_client)
        endpoint = await add_endpoint(wh_client, org, receiver.url + "/hooks")
        await emit(wh_database, org)
        receiver.answer(status=200, body=b"ok\x00\x00done")
        send = dispatcher(wh_settings)

        assert await send.run(wh_database) == 1
        assert await send.run(wh_database) == 0

        assert len(receiver.requests) == 1
        [delivery] = await deliveries_of(wh_database, endpoint["id"])
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)
        [attempt] = await attempts_of(wh_database, delivery.id)
        assert attempt.outcome is AttemptOutcome.DELIVERED
        assert attempt.response_body == "ok\ufffd\ufffddone"


UNSENDABLE = [
    "https://exa\u200bmple.com/",
    "https://\ufb00.example.com/",
    "https://xn--zz.example.com/",
    "https://" + "\u00e4" * 60 + ".example.com/",
]


class _Exploding(httpcore.AsyncNetworkBackend):
    """A network that fails in a way httpx does not map to one of its errors."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise RuntimeError("the network stack broke")

    async def sleep(self, seconds: float) -> None:
        return None


class TestUnsendableUrls:
    @pytest.mark.parametrize("url", UNSENDABLE)
    def test_hosts_httpx_cannot_encode_are_refused_when_saved(self, url: str) -> None:
        with pytest.raises(addresses.UrlRefused):
            addresses.check_url(url, allow_loopback=False)

    def test_an_international_name_is_still_accepted(self) -> None:
        assert addresses.check_url("https://b\u00fccher.example.com/x", allow_loopback=False).port == 443

    @pytest.mark.parametrize("url", UNSENDABLE)
    async def test_sending_to_one_is_refused_not_raised(self, url: str) -> None:
        result = await transport.send(url, body=b"{}", headers={}, policy=SendPolicy())
        assert result.outcome is AttemptOutcome.REFUSED

    async def test_a_name_dns_cannot_encode_does_not_resolve(self) -> None:
        target = addresses.Target(scheme="https", host="\u00e4" * 60 + ".example.com", port=443)
        with pytest.raises(httpx.ConnectError):
            await transport.checked_address(target, SendPolicy())

    async def test_an_exception_from_one_send_is_recorded_as_a_connection_error(
        self, wh_client: httpx.AsyncClient, wh_database: Database, wh_settings: Settings, receiver: Receiver
    ) -> None:
        org = await builders.sign_up(wh_client)
        endpoint = await add_endpoint(wh_client, org, receiver.url + "/hooks")
        await emit(wh_database, org)
        await emit(wh_database, org)

        assert await dispatcher(wh_settings, network_backend=_Exploding()).run(wh_database) == 2

        rows = await deliveries_of(wh_database, endpoint["id"])
        assert [(d.status, d.attempts) for d in rows] == [(DeliveryStatus.PENDING, 1)] * 2
        for delivery in rows:
            [attempt] = await attempts_of(wh_database, delivery.id)
            assert attempt.outcome is AttemptOutcome.CONNECTION_ERROR
            assert attempt.error is not None and "RuntimeError" in attempt.error


class TestFairClaims:
    async def test_busy_endpoints_take_turns_instead_of_the_lowest_id_winning(
        self,
        wh_client: httpx.AsyncClient,
        wh_database: Database,
        wh_settings: Settings,
        receiver: Receiver,
        clock: SettableClock,
    ) -> None:
        org = await builders.sign_up(wh_client)
        await add_endpoint(wh_client, org, receiver.url + "/a")
        await add_endpoint(wh_client, org, receiver.url + "/b")
        for _ in range(3):
            await emit(wh_database, org)
        send = dispatcher(wh_settings)
        send.max_endpoints, send.per_endpoint = 1, 1

        for _ in range(4):
            assert await send.run(wh_database) == 1
            clock.advance(timedelta(seconds=1))

        paths = receiver.paths()
        assert sorted(paths) == ["/a", "/a", "/b", "/b"]
        assert paths[0] != paths[1] and paths[1] != paths[2], paths


class TestReplayedBackoff:
    async def test_the_first_failure_after_a_replay_backs_off_as_a_first_failure(
        self,
        wh_client: httpx.AsyncClient,
        wh_database: Database,
        wh_settings: Settings,
        receiver: Receiver,
        clock: SettableClock,
    ) -> None:
        org = await builders.sign_up(wh_client)
        endpoint = await add_endpoint(wh_client, org, receiver.url + "/hooks")
        await emit(wh_database, org)
        send = dispatcher(wh_settings)
        for _ in range(5):
            receiver.answer(status=500)
            assert await send.run(wh_database) == 1
            [delivery] = await deliveries_of(wh_database, endpoint["id"])
            assert delivery.next_attempt_at is not None
            clock.set(delivery.next_attempt_at)
        [delivery] = await deliveries_of(wh_database, endpoint["id"])
        assert delivery.attempts == 5

        retried = await wh_client.post(
            f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries/{delivery.id}/retry", headers=org.headers
        )
        assert retried.status_code == 202, retried.text
        receiver.answer(status=500)
        assert await send.run(wh_database) == 1

        [delivery] = await deliveries_of(wh_database, endpoint["id"])
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
        assert delivery.next_attempt_at is not None
        assert delivery.next_attempt_at - clock.now() <= timedelta(seconds=30)


class TestEmptyClaims:
    @pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
    async def test_an_endpoint_whose_due_rows_are_all_locked_is_not_leased(
        self, wh_client: httpx.AsyncClient, wh_database: Database, wh_settings: Settings, receiver: Receiver
    ) -> None:
        org = await builders.sign_up(wh_client)
        endpoint = await add_endpoint(wh_client, org, receiver.url + "/hooks")
        await emit(wh_database, org)
        send = dispatcher(wh_settings)

        async with wh_database.transaction() as holder:
            await holder.execute(
                sa.select(WebhookDelivery)
                .where(WebhookDelivery.endpoint_id == uuid.UUID(endpoint["id"]))
                .with_for_update()
            )
            assert await send.run(wh_database) == 0
            assert (await endpoint_row(wh_database, endpoint["id"])).lease_until is None

        assert await send.run(wh_database) == 1, "not held back by a lease over nothing"
        assert receiver.paths() == ["/hooks"]


class TestReplayForm:
    async def test_a_time_past_the_last_utc_instant_is_an_error_next_to_the_field(
        self, wh_client: httpx.AsyncClient, receiver: Receiver
    ) -> None:
        org = await builders.sign_up(wh_client)
        endpoint = await add_endpoint(wh_client, org, receiver.url + "/hooks")
        await log_in(wh_client, org.email)
        page = f"/dashboard/webhooks/{endpoint['id']}"

        response = await submit(
            wh_client, page + "/replay", {"since": "9999-12-31T23:59:59-01:00"}, page=page
        )

        assert response.status_code == 422, response.text
        assert 'id="since-error"' in response.text


class TestRetryInFlight:
    async def test_a_retry_while_the_delivery_is_in_flight_is_not_overwritten_by_its_answer(
        self,
        wh_client: httpx.AsyncClient,
        wh_database: Database,
        wh_settings: Settings,
        receiver: Receiver,
        clock: SettableClock,
    ) -> None:
        org = await builders.sign_up(wh_client)
        endpoint = await add_endpoint(wh_client, org, receiver.url + "/hooks")
        await emit(wh_database, org)
        receiver.answer(sleep_s=1)
        send = dispatcher(wh_settings, timeout_s=10)

        assert await send.start(wh_database) == 1
        [delivery] = await deliveries_of(wh_database, endpoint["id"])
        clock.advance(timedelta(seconds=5))
        retried = await wh_client.post(
            f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries/{delivery.id}/retry", headers=org.headers
        )
        assert retried.status_code == 202, retried.text
        await send.drain()

        [delivery] = await deliveries_of(wh_database, endpoint["id"])
        assert (delivery.status, delivery.next_attempt_at) == (DeliveryStatus.PENDING, clock.now())
        assert len(await attempts_of(wh_database, delivery.id)) == 1, "the first answer is logged"
        assert await send.run(wh_database) == 1, "the member's retry is sent"
        assert len(receiver.requests) == 2


class TestEndpointLimit:
    @pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
    async def test_concurrent_creates_cannot_pass_the_limit(
        self, wh_client: httpx.AsyncClient, wh_database: Database, wh_settings: Settings, receiver: Receiver
    ) -> None:
        org = await builders.sign_up(wh_client)
        for n in range(endpoints.MAX_ENDPOINTS - 1):
            await add_endpoint(wh_client, org, f"{receiver.url}/hooks/{n}")

        actor = Actor(
            nonprofit_id=uuid.UUID(org.id),
            role=MemberRole.OWNER,
            member_id=None,
            api_key_id=uuid.uuid4(),
            label="t",
        )
        config = endpoints.EndpointSettings(secret_key=wh_settings.secret_key, allow_loopback=True)

        async def create(session: UnitOfWork, n: int) -> None:
            await endpoints.create_endpoint(
                session, actor=actor, config=config, url=f"{receiver.url}/last/{n}", enabled_events=["*"]
            )

        async def second() -> None:
            async with wh_database.transaction() as session:
                await create(session, 2)

        async with wh_database.transaction() as first:
            await create(first, 1)
            racing = asyncio.create_task(second())
            await asyncio.sleep(0.5)
            assert not racing.done(), "the second create waits for the first to commit"
        with pytest.raises(TooManyEndpoints):
            await racing

        async with wh_database.transaction() as session:
            count = await session.scalar(
                sa.select(sa.func.count())
                .select_from(WebhookEndpoint)
                .where(WebhookEndpoint.nonprofit_id == uuid.UUID(org.id))
            )
        assert count == endpoints.MAX_ENDPOINTS
