"""Bad input: 10,000 malformed, truncated, oversized and forged deliveries; only 4xx, nothing stored."""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import sqlalchemy as sa
from starlette.applications import Starlette

from service.db import Database
from service.settings import Settings
from tests.webhooks import stripe_events
from webhooks.models import WebhookEvent

CASES = 10_000
Case = tuple[bytes, dict[str, str]]


def valid_payload() -> bytes:
    return stripe_events.encode(stripe_events.event("charge.succeeded", stripe_events.example("charge")))


def broken_events(rng: random.Random) -> bytes:
    """JSON that is signed correctly but is not a Stripe event."""
    evt: Any = json.loads(valid_payload())
    field, value = rng.choice(
        [
            ("id", 12),
            ("id", ""),
            ("id", "x" * 300),
            ("type", None),
            ("type", ["charge.succeeded"]),
            ("livemode", "false"),
            ("livemode", 0),
            ("created", "yesterday"),
            ("created", -5),
            ("created", 10**30),
            ("data", []),
            ("data", {"object": None}),
            ("data", {"object": "ch_1"}),
            ("data", None),
            ("account", {"id": "acct_1"}),
            ("api_version", 3.5),
        ]
    )
    evt[field] = value
    if rng.random() < 0.2:
        evt = rng.choice([[evt], "event", 42, None, True, {"data": {"object": {}}}])
    return json.dumps(evt).encode()


def nested(rng: random.Random) -> bytes:
    depth = rng.randint(100, 5000)
    return b'{"id":"evt_1","data":' + b"[" * depth + b"]" * depth + b"}"


def make_cases(secret: str, rng: random.Random) -> list[tuple[str, Case]]:
    now = int(time.time())
    payload = valid_payload()

    def right(body: bytes) -> Case:
        return body, stripe_events.signed_headers(body, secret)

    kinds: list[tuple[str, Callable[[], Case]]] = [
        (
            "random bytes",
            lambda: (rng.randbytes(rng.randint(0, 2000)), {"Stripe-Signature": f"t={now},v1=00"}),
        ),
        (
            "truncated, signature of whole",
            lambda: (payload[: rng.randint(0, len(payload) - 1)], right(payload)[1]),
        ),
        ("truncated and signed", lambda: right(payload[: rng.randint(0, len(payload) - 1)])),
        (
            "forged secret",
            lambda: (payload, stripe_events.signed_headers(payload, "whsec_" + rng.randbytes(8).hex())),
        ),
        ("signed non-event", lambda: right(broken_events(rng))),
        ("signed deep nesting", lambda: right(nested(rng))),
        ("signed non-utf8", lambda: right(b'{"id": "evt_\xff\xfe"}' + rng.randbytes(rng.randint(0, 50)))),
        (
            "stale",
            lambda: (
                payload,
                stripe_events.signed_headers(payload, secret, timestamp=now - rng.randint(301, 10**6)),
            ),
        ),
        (
            "right mac under the v0 scheme",
            lambda: (
                payload,
                {"Stripe-Signature": right(payload)[1]["Stripe-Signature"].replace("v1=", "v0=")},
            ),
        ),
        ("no header", lambda: (payload, {})),
        (
            "garbage header",
            lambda: (
                payload,
                {
                    "Stripe-Signature": rng.choice(
                        ["", "t=", "v1=", "t=abc,v1=zz", ",,,", "t=1,v0=aa", "x" * 8000, "t=1,v1=" + "f" * 64]
                    )
                },
            ),
        ),
        ("signature for another body", lambda: (payload, right(valid_payload())[1])),
    ]
    cases = []
    for i in range(CASES):
        if i % 500 == 0:
            body = b'{"id":"' + b"x" * (1024 * 1024 + rng.randint(1, 4096)) + b'"}'
            cases.append(("oversized", right(body)))
            continue
        name, build = kinds[i % len(kinds)]
        cases.append((name, build()))
    return cases


class TestBadInput:
    async def test_ten_thousand_bad_deliveries_get_4xx_and_store_nothing(
        self, app: Starlette, database: Database, settings: Settings
    ) -> None:
        rng = random.Random(20261127)
        statuses: Counter[tuple[str, int]] = Counter()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for name, (body, headers) in make_cases(settings.webhook_secret, rng):
                path = "/webhooks/stripe" if rng.random() < 0.8 else "/webhooks/stripe/connect"
                response = await client.post(path, content=body, headers=headers)
                statuses[(name, response.status_code)] += 1

        assert sum(statuses.values()) == CASES
        assert {status for _, status in statuses} <= {400, 413}, statuses
        async with database.transaction() as session:
            assert await session.scalar(sa.select(sa.func.count()).select_from(WebhookEvent)) == 0
