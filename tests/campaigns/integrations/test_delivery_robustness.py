"""Delivery robustness: odd receiver answers, odd URLs, fair claiming, replays and retries."""

from __future__ import annotations

import httpx

from campaigns.integrations.endpoint_models import AttemptOutcome, DeliveryStatus
from service.db import Database
from service.settings import Settings
from tests import builders
from tests.campaigns.integrations.conftest import add_endpoint, attempts_of, deliveries_of, dispatcher, emit
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
