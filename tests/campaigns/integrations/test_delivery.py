"""Deliveries to a real receiver: signed, retried with backoff, disabled after three days,
replayed; the README's verification snippet checks a real delivery."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from campaigns.integrations.endpoint_models import AttemptOutcome, DeliveryStatus
from service.clock import SettableClock
from service.db import Database
from service.settings import Settings
from tests import builders
from tests.campaigns.integrations.conftest import (
    add_endpoint,
    attempts_of,
    deliveries_of,
    dispatcher,
    emit,
    endpoint_row,
)
from tests.campaigns.integrations.receiver import Receiver
from tests.mail_server import SmtpServer, parts
from tests.service.log_capture import Logs

SNIPPET = Path(__file__).resolve().parents[3] / "service/templates/dashboard/_webhook_verify.py.txt"
Verify = Callable[..., bool]


def readme_verify() -> Verify:
    """The README's (and the dashboard's) ten lines, run exactly as they are printed."""
    namespace: dict[str, Any] = {}
    exec(compile(SNIPPET.read_text(), str(SNIPPET), "exec"), namespace)  # noqa: S102 - our own file
    verify: Verify = namespace["verify"]
    return verify


class TestSigned:
    async def test_a_delivery_carries_the_envelope_signed_as_the_readme_verifies(
        self, wh_client: httpx.AsyncClient, wh_database: Database, wh_settings: Settings, receiver: Receiver
    ) -> None:
        org = await builders.sign_up(wh_client)
        endpoint = await add_endpoint(wh_client, org, receiver.url + "/hooks")
        event_id = await emit(wh_database, org)

        assert await dispatcher(wh_settings).run(wh_database) == 1

        [request] = receiver.requests
        assert request.path == "/hooks"
        envelope = json.loads(request.body)
        assert envelope["id"] == event_id == request.headers["goodloop-event-id"]
        assert envelope["type"] == "donation.confirmed" == request.headers["goodloop-event-type"]
        assert set(envelope) == {"id", "type", "created", "api_version", "data"}
        assert request.headers["user-agent"].startswith("Goodloop-Webhooks/")
        verify = readme_verify()
        header = request.headers["goodloop-signature"]
        assert verify(request.body, header, endpoint["secret"])
        assert not verify(request.body + b" ", header, endpoint["secret"])
        assert not verify(request.body, header, "whsec_" + "0" * 64)
        [delivery] = await deliveries_of(wh_database, endpoint["id"])
        assert delivery.status is DeliveryStatus.DELIVERED
        [attempt] = await attempts_of(wh_database, delivery.id)
        assert (attempt.outcome, attempt.status_code, attempt.response_body) == (
            AttemptOutcome.DELIVERED,
            200,
            "ok",
        )


async def _setup(
    client: httpx.AsyncClient, receiver: Receiver, *, country: str = "IE"
) -> tuple[builders.Org, dict[str, Any]]:
    org = await builders.sign_up(client, country=country)
    endpoint = await add_endpoint(client, org, receiver.url + "/hooks")
    return org, endpoint


class TestRetries:
    async def test_a_500_is_retried_after_a_backoff_and_then_delivered(
        self,
        wh_client: httpx.AsyncClient,
        wh_database: Database,
        wh_settings: Settings,
        receiver: Receiver,
        clock: SettableClock,
    ) -> None:
        org, endpoint = await _setup(wh_client, receiver)
        await emit(wh_database, org)
        receiver.answer(status=500, body=b"database down")
        send = dispatcher(wh_settings)

        assert await send.run(wh_database) == 1
        [delivery] = await deliveries_of(wh_database, endpoint["id"])
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
        assert delivery.next_attempt_at is not None
        wait = delivery.next_attempt_at - clock.now()
        assert timedelta(seconds=15) <= wait <= timedelta(seconds=30)
        assert await send.run(wh_database) == 0, "not due before its backoff ends"

        clock.advance(wait)
        assert await send.run(wh_database) == 1

        [delivery] = await deliveries_of(wh_database, endpoint["id"])
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
        log = await attempts_of(wh_database, delivery.id)
        assert [(a.outcome, a.status_code, a.response_body) for a in log] == [
            (AttemptOutcome.HTTP_ERROR, 500, "database down"),
            (AttemptOutcome.DELIVERED, 200, "ok"),
        ]
        assert len(receiver.requests) == 2
        assert receiver.requests[0].body == receiver.requests[1].body, "a retry sends the same bytes"
        assert (await endpoint_row(wh_database, endpoint["id"])).failing_since is None

    async def test_an_endpoint_that_does_not_answer_in_time_is_retried(
        self,
        wh_client: httpx.AsyncClient,
        wh_database: Database,
        wh_settings: Settings,
        receiver: Receiver,
        clock: SettableClock,
    ) -> None:
        org, endpoint = await _setup(wh_client, receiver)
        await emit(wh_database, org)
        receiver.answer(sleep_s=4)
        send = dispatcher(wh_settings, timeout_s=2)

        assert await send.run(wh_database) == 1
        [delivery] = await deliveries_of(wh_database, endpoint["id"])
        [attempt] = await attempts_of(wh_database, delivery.id)
        assert attempt.outcome is AttemptOutcome.TIMEOUT
        assert attempt.status_code is None
        assert delivery.status is DeliveryStatus.PENDING
        assert (await endpoint_row(wh_database, endpoint["id"])).failing_since == clock.now()

        clock.advance(timedelta(minutes=1))
        assert await send.run(wh_database) == 1
        [delivery] = await deliveries_of(wh_database, endpoint["id"])
        assert delivery.status is DeliveryStatus.DELIVERED

    def test_backoff_grows_with_jitter_up_to_its_cap(self) -> None:
        import random

        rng = random.Random(3)
        delays = [deliveries_backoff(n, rng) for n in range(1, 30)]
        assert timedelta(seconds=15) <= delays[0] <= timedelta(seconds=30)
        assert timedelta(seconds=30) <= delays[1] <= timedelta(seconds=60)
        assert all(d <= timedelta(hours=8) for d in delays)
        assert delays[-1] >= timedelta(hours=4)
        assert len({d for d in delays}) == len(delays), "jittered: no two delays alike"


def deliveries_backoff(attempts: int, rng: Any) -> timedelta:
    from campaigns.integrations.deliveries import backoff

    return backoff(attempts, rng=rng)


class TestDisabledAfterThreeDays:
    async def test_three_days_of_failures_disable_the_endpoint_and_email_its_members(
        self,
        wh_client: httpx.AsyncClient,
        wh_database: Database,
        wh_settings: Settings,
        receiver: Receiver,
        clock: SettableClock,
        smtp_server: SmtpServer,
    ) -> None:
        org, endpoint = await _setup(wh_client, receiver)
        await emit(wh_database, org)
        started = clock.now()
        send = dispatcher(wh_settings)
        for _ in range(200):
            receiver.answer(status=503)
            await send.run(wh_database)
            row = await endpoint_row(wh_database, endpoint["id"])
            if not row.enabled:
                break
            [delivery] = await deliveries_of(wh_database, endpoint["id"])
            assert delivery.next_attempt_at is not None
            clock.set(delivery.next_attempt_at)
        row = await endpoint_row(wh_database, endpoint["id"])

        assert not row.enabled
        assert row.disabled_reason is not None and row.disabled_reason.value == "failing"
        assert row.disabled_at is not None and row.disabled_at - started >= timedelta(days=3)
        assert row.disabled_at - started < timedelta(days=3, hours=9), "backoff is capped at 8 hours"
        [delivery] = await deliveries_of(wh_database, endpoint["id"])
        assert delivery.status is DeliveryStatus.FAILED
        attempts = len(receiver.requests)
        assert 10 <= attempts <= 40
        await emit(wh_database, org)
        assert await send.run(wh_database) == 0, "a disabled endpoint gets nothing"

        [message] = await smtp_server.deliver(wh_database)
        assert message["To"] == org.email
        assert "webhook endpoint" in message["Subject"]
        text, html = parts(message)
        assert receiver.url + "/hooks" in text
        assert f"/dashboard/webhooks/{endpoint['id']}" in text
        assert f"/dashboard/webhooks/{endpoint['id']}" in html

    async def test_members_of_a_dutch_organisation_read_it_in_dutch(
        self,
        wh_client: httpx.AsyncClient,
        wh_database: Database,
        wh_settings: Settings,
        receiver: Receiver,
        clock: SettableClock,
        smtp_server: SmtpServer,
    ) -> None:
        org, endpoint = await _setup(wh_client, receiver, country="NL")
        await emit(wh_database, org)
        send = dispatcher(wh_settings)
        receiver.answer(status=500)
        await send.run(wh_database)
        clock.advance(timedelta(days=3, seconds=1))
        receiver.answer(status=500)
        await send.run(wh_database)

        assert not (await endpoint_row(wh_database, endpoint["id"])).enabled
        [message] = await smtp_server.deliver(wh_database)
        assert message["Subject"].startswith("We hebben een webhook-endpoint")
        assert "Mislukt sinds" in parts(message)[0]

    async def test_a_success_within_three_days_keeps_it_enabled(
        self,
        wh_client: httpx.AsyncClient,
        wh_database: Database,
        wh_settings: Settings,
        receiver: Receiver,
        clock: SettableClock,
    ) -> None:
        org, endpoint = await _setup(wh_client, receiver)
        send = dispatcher(wh_settings)
        await emit(wh_database, org)
        receiver.answer(status=500)
        await send.run(wh_database)
        clock.advance(timedelta(days=2))
        await emit(wh_database, org)
        receiver.answer(status=500)
        await send.run(wh_database)  # both due: the new one and the retry
        clock.advance(timedelta(days=1, hours=1))
        await emit(wh_database, org)
        await send.run(wh_database)

        row = await endpoint_row(wh_database, endpoint["id"])
        assert row.enabled
        assert row.failing_since is None
        assert row.last_success_at == clock.now()


class TestReplay:
    async def test_failed_deliveries_since_a_time_are_sent_again(
        self,
        wh_client: httpx.AsyncClient,
        wh_database: Database,
        wh_settings: Settings,
        receiver: Receiver,
        clock: SettableClock,
    ) -> None:
        org, endpoint = await _setup(wh_client, receiver)
        send = dispatcher(wh_settings)
        old = await emit(wh_database, org)
        clock.advance(timedelta(hours=1))
        since = clock.now()
        recent = await emit(wh_database, org)
        # Both fail for three days (the endpoint is disabled), then the member fixes it.
        for _ in range(60):
            receiver.answer(status=500)
            receiver.answer(status=500)
            if await send.run(wh_database) == 0:
                clock.advance(timedelta(hours=8))
        assert {d.status for d in await deliveries_of(wh_database, endpoint["id"])} == {DeliveryStatus.FAILED}
        url = f"/api/v1/webhook-endpoints/{endpoint['id']}"
        refused = await wh_client.post(
            url + "/replay", json={"since": since.isoformat()}, headers=org.headers
        )
        assert refused.status_code == 409, refused.text
        enabled = await wh_client.patch(url, json={"enabled": True}, headers=org.headers)
        assert enabled.status_code == 200
        receiver.answers.clear()
        receiver.requests.clear()

        replayed = await wh_client.post(
            url + "/replay", json={"since": since.isoformat()}, headers=org.headers
        )
        assert replayed.status_code == 202, replayed.text
        assert replayed.json() == {"replayed": 1}
        assert await send.run(wh_database) == 1

        assert [r.headers["goodloop-event-id"] for r in receiver.requests] == [recent]
        by_event = {d.event_id: d.status for d in await deliveries_of(wh_database, endpoint["id"])}
        assert by_event == {old: DeliveryStatus.FAILED, recent: DeliveryStatus.DELIVERED}

        again = await wh_client.post(url + "/replay", json={"event_id": old}, headers=org.headers)
        assert again.status_code == 202, again.text
        assert await send.run(wh_database) == 1
        assert [r.headers["goodloop-event-id"] for r in receiver.requests] == [recent, old]

    async def test_one_delivery_is_sent_again_even_when_it_was_delivered(
        self, wh_client: httpx.AsyncClient, wh_database: Database, wh_settings: Settings, receiver: Receiver
    ) -> None:
        org, endpoint = await _setup(wh_client, receiver)
        event_id = await emit(wh_database, org)
        send = dispatcher(wh_settings)
        await send.run(wh_database)
        [delivery] = await deliveries_of(wh_database, endpoint["id"])

        response = await wh_client.post(
            f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries/{delivery.id}/retry", headers=org.headers
        )
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "pending"
        assert await send.run(wh_database) == 1

        assert [r.headers["goodloop-event-id"] for r in receiver.requests] == [event_id, event_id]
        [delivery] = await deliveries_of(wh_database, endpoint["id"])
        # A replay starts its count again (a backoff and window of its own); the log keeps both.
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)
        assert len(await attempts_of(wh_database, delivery.id)) == 2

    async def test_a_test_event_is_signed_and_sent_like_any_other(
        self, wh_client: httpx.AsyncClient, wh_database: Database, wh_settings: Settings, receiver: Receiver
    ) -> None:
        org, endpoint = await _setup(wh_client, receiver)
        response = await wh_client.post(
            f"/api/v1/webhook-endpoints/{endpoint['id']}/test", headers=org.headers
        )
        assert response.status_code == 202, response.text
        assert response.json()["event_type"] == "webhook_endpoint.test"

        assert await dispatcher(wh_settings).run(wh_database) == 1

        [request] = receiver.requests
        assert request.headers["goodloop-event-type"] == "webhook_endpoint.test"
        envelope = json.loads(request.body)
        assert envelope["data"]["object"]["id"] == endpoint["id"]
        assert readme_verify()(request.body, request.headers["goodloop-signature"], endpoint["secret"])


class TestRolledSecret:
    async def test_both_secrets_sign_for_24_hours_then_only_the_new_one(
        self,
        wh_client: httpx.AsyncClient,
        wh_database: Database,
        wh_settings: Settings,
        receiver: Receiver,
        clock: SettableClock,
    ) -> None:
        org, endpoint = await _setup(wh_client, receiver)
        rolled = await wh_client.post(
            f"/api/v1/webhook-endpoints/{endpoint['id']}/roll-secret", headers=org.headers
        )
        assert rolled.status_code == 200, rolled.text
        new, old = rolled.json()["secret"], endpoint["secret"]
        assert new != old and new.startswith("whsec_")
        send = dispatcher(wh_settings)
        verify = readme_verify()

        await emit(wh_database, org)
        await send.run(wh_database)
        request = receiver.requests[-1]
        header = request.headers["goodloop-signature"]
        assert header.count("v1=") == 2
        assert verify(request.body, header, new) and verify(request.body, header, old)

        clock.advance(timedelta(hours=24, seconds=1))
        await emit(wh_database, org)
        await send.run(wh_database)
        request = receiver.requests[-1]
        header = request.headers["goodloop-signature"]
        assert header.count("v1=") == 1
        assert request.headers["goodloop-signature"].startswith(f"t={int(clock.now().timestamp())},")
        body_signed_with = {s for s in (new, old) if _signed(request.body, header, s)}
        assert body_signed_with == {new}


def _signed(body: bytes, header: str, secret: str) -> bool:
    import hashlib
    import hmac

    stamp = header.split(",")[0].removeprefix("t=")
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={expected}" in header.split(",")


class TestCaps:
    async def test_a_redirect_is_a_failure_and_is_not_followed(
        self, wh_client: httpx.AsyncClient, wh_database: Database, wh_settings: Settings, receiver: Receiver
    ) -> None:
        org, endpoint = await _setup(wh_client, receiver)
        await emit(wh_database, org)
        receiver.answer(status=307, location=receiver.url + "/elsewhere")

        await dispatcher(wh_settings).run(wh_database)

        assert receiver.paths() == ["/hooks"]
        [delivery] = await deliveries_of(wh_database, endpoint["id"])
        [attempt] = await attempts_of(wh_database, delivery.id)
        assert (attempt.outcome, attempt.status_code) == (AttemptOutcome.HTTP_ERROR, 307)
        assert attempt.error == "redirects are not followed"
        assert delivery.status is DeliveryStatus.PENDING

    async def test_only_the_first_kilobyte_of_a_huge_answer_is_read_and_kept(
        self, wh_client: httpx.AsyncClient, wh_database: Database, wh_settings: Settings, receiver: Receiver
    ) -> None:
        org, endpoint = await _setup(wh_client, receiver)
        await emit(wh_database, org)
        total = 64 * 1024 * 1024
        receiver.answer(body_bytes=total)

        await dispatcher(wh_settings).run(wh_database)

        [delivery] = await deliveries_of(wh_database, endpoint["id"])
        [attempt] = await attempts_of(wh_database, delivery.id)
        assert attempt.outcome is AttemptOutcome.DELIVERED
        assert attempt.response_body == "x" * 1024
        assert receiver.streamed[0] < total, "the sender stopped reading"


class TestEndpointsDoNotBlockEachOther:
    async def test_a_slow_endpoint_costs_another_nothing_and_one_endpoint_gets_at_most_four_at_once(
        self, wh_client: httpx.AsyncClient, wh_database: Database, wh_settings: Settings, receiver: Receiver
    ) -> None:
        slow_org = await builders.sign_up(wh_client)
        fast_org = await builders.sign_up(wh_client)
        slow = await add_endpoint(wh_client, slow_org, receiver.url + "/slow")
        fast = await add_endpoint(wh_client, fast_org, receiver.url + "/fast")
        for _ in range(10):
            await emit(wh_database, slow_org)
        await emit(wh_database, fast_org)
        for _ in range(4):
            receiver.answer(sleep_s=4, path="/slow")

        sent = await dispatcher(wh_settings, timeout_s=2).run(wh_database)

        assert sent == 5
        assert sorted(receiver.paths()).count("/slow") == 4
        [fast_delivery] = await deliveries_of(wh_database, fast["id"])
        assert fast_delivery.status is DeliveryStatus.DELIVERED
        statuses = [d.attempts for d in await deliveries_of(wh_database, slow["id"])]
        assert sorted(statuses) == [0] * 6 + [1] * 4

    async def test_a_claimed_endpoint_is_left_to_its_worker(
        self, wh_client: httpx.AsyncClient, wh_database: Database, receiver: Receiver
    ) -> None:
        from campaigns.integrations import deliveries

        org, _ = await _setup(wh_client, receiver)
        await emit(wh_database, org)
        await emit(wh_database, org)

        first = await wh_database.run("claim", lambda s: deliveries.claim_batches(s, per_endpoint=1))
        second = await wh_database.run("claim", lambda s: deliveries.claim_batches(s, per_endpoint=1))

        assert [len(b.deliveries) for b in first] == [1]
        assert second == [], "its lease keeps a second worker off the endpoint"


class TestSecretsStaySecret:
    async def test_sending_logs_neither_the_secret_nor_the_signature(
        self,
        wh_client: httpx.AsyncClient,
        wh_database: Database,
        wh_settings: Settings,
        receiver: Receiver,
        json_logs: Logs,
    ) -> None:
        org, endpoint = await _setup(wh_client, receiver)
        await emit(wh_database, org)
        receiver.answer(status=500)
        await dispatcher(wh_settings).run(wh_database)

        lines = str(json_logs())
        assert "webhook attempt" in lines
        assert endpoint["secret"] not in lines
        signature = receiver.requests[0].headers["goodloop-signature"]
        assert signature.split("v1=")[1] not in lines

    async def test_a_secret_that_no_longer_decrypts_sends_nothing_and_says_roll_it(
        self, wh_client: httpx.AsyncClient, wh_database: Database, wh_settings: Settings, receiver: Receiver
    ) -> None:
        org, endpoint = await _setup(wh_client, receiver)
        await emit(wh_database, org)
        rotated = dataclasses.replace(wh_settings, secret_key="a-rotated-secret-key-that-is-long-enough-1234")

        await dispatcher(rotated).run(wh_database)

        assert receiver.requests == []
        [delivery] = await deliveries_of(wh_database, endpoint["id"])
        [attempt] = await attempts_of(wh_database, delivery.id)
        assert attempt.outcome is AttemptOutcome.REFUSED
        assert attempt.error is not None and "roll the secret" in attempt.error


class TestWorkerJob:
    async def test_the_job_returns_before_a_slow_receiver_answers_and_records_it_after(
        self, wh_client: httpx.AsyncClient, wh_database: Database, wh_settings: Settings, receiver: Receiver
    ) -> None:
        org, endpoint = await _setup(wh_client, receiver)
        await emit(wh_database, org)
        receiver.answer(sleep_s=3)
        send = dispatcher(wh_settings, timeout_s=10)

        assert await send.start(wh_database) == 1
        [waiting] = await deliveries_of(wh_database, endpoint["id"])
        assert waiting.attempts == 0, "the job did not wait for the answer"
        assert await send.start(wh_database) == 0, "the endpoint is in flight: not claimed twice"

        await send.drain()
        [delivery] = await deliveries_of(wh_database, endpoint["id"])
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)
        assert len(receiver.requests) == 1
