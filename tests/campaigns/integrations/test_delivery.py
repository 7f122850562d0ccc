"""Deliveries to a real receiver: signed, retried with backoff, disabled after three days,
replayed; the README's verification snippet checks a real delivery."""

from __future__ import annotations

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
