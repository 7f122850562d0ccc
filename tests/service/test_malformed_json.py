"""JSON that Python's parser chokes on is a 400 on every JSON endpoint, logged once at info.

The table is the OpenAPI document itself: every POST, PATCH and PUT that takes a JSON body,
called with valid credentials (so the body is what gets judged), plus Stripe's webhook intake
with correctly signed bodies.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.auth.models import AdminRole
from service.db import Database
from service.settings import Settings
from service.web.api import _nested_deeper_than
from tests import builders
from tests.service.log_capture import Logs
from tests.webhooks import stripe_events

DEEP = 50_000
# Each a body Python's json module refuses in its own way (or, for the last two, accepts but
# nothing downstream should see).
MALFORMED: dict[str, bytes] = {
    "nested 50,000 deep (RecursionError)": b"[" * DEEP + b"]" * DEEP,
    "object nested 50,000 deep": b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    "integer of 5,000 digits (int_max_str_digits)": b'{"amount_minor": 1' + b"0" * 4999 + b"}",
    "integer of 5,000 digits, nested": b'{"name": "x", "extra": [[[-' + b"9" * 5000 + b"]]]}",
    "nested 500 deep (parses, deeper than any body)": b'{"name": ' + b"[" * 500 + b"]" * 500 + b"}",
    "NaN, which no database takes as JSON": b'{"name": NaN}',
}


@dataclass(frozen=True)
class BodyOperation:
    method: str
    path: str
    headers: dict[str, str]

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def _concrete(path: str) -> str:
    """Fill every path parameter; the body is refused before anything is looked up."""
    parts = []
    for part in path.split("/"):
        if part.startswith("{"):
            parts.append(str(uuid.uuid4()) if part.endswith("_id}") else "some-slug")
        else:
            parts.append(part)
    return "/".join(parts)


@pytest.fixture
async def body_operations(client: httpx.AsyncClient, database: Database) -> list[BodyOperation]:
    org = await builders.sign_up(client)
    admin = await builders.insert_admin(database, role=AdminRole.SUPERADMIN)
    document = (await client.get("/api/v1/openapi.json")).json()
    operations = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if method not in {"post", "patch", "put"} or "requestBody" not in operation:
                continue
            if "application/json" not in operation["requestBody"]["content"]:
                continue  # a file upload (multipart/form-data) takes no JSON
            if not operation.get("security"):
                headers: dict[str, str] = {}
            elif path.startswith("/api/v1/admin/"):
                headers = admin.headers
            else:
                headers = org.headers
            operations.append(BodyOperation(method.upper(), _concrete(path), headers))
    assert len(operations) >= 20, "the OpenAPI document lists the JSON endpoints"
    return operations


class TestMalformedJson:
    @pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
    async def test_every_json_endpoint_answers_400(
        self, client: httpx.AsyncClient, body_operations: list[BodyOperation], body: bytes, json_logs: Logs
    ) -> None:
        json_logs()
        wrong = {}
        for op in body_operations:
            response = await client.request(
                op.method,
                op.path,
                content=body,
                headers={**op.headers, "Content-Type": "application/json"},
            )
            if response.status_code != 400 or response.json().get("error") != "invalid_json":
                wrong[op.label] = f"{response.status_code} {response.text[:200]}"

        assert wrong == {}
        lines = json_logs()
        assert [line for line in lines if line["level"] not in {"info", "debug"} or "exception" in line] == []
        refused = [line for line in lines if line["event"] == "request body refused"]
        # Once per request, at info, saying why and where.
        assert len(refused) == len(body_operations)
        assert {line["level"] for line in refused} == {"info"}
        assert {line["path"] for line in refused} == {op.path for op in body_operations}
        assert all(line["reason"] for line in refused)

    async def test_a_good_body_still_passes(self, client: httpx.AsyncClient) -> None:
        org = await builders.sign_up(client)

        response = await client.post(
            "/api/v1/campaigns", json=builders.campaign_payload(), headers=org.headers
        )

        assert response.status_code == 201, response.text


class TestMalformedWebhook:
    @pytest.mark.parametrize(
        "body",
        [
            b'{"id": "evt_1", "object": "event", "data": ' + b"[" * DEEP + b"]" * DEEP + b"}",
            b'{"id": "evt_1", "object": "event", "created": 1' + b"0" * 4999 + b"}",
        ],
        ids=["nested 50,000 deep", "integer of 5,000 digits"],
    )
    @pytest.mark.parametrize("path", ["/webhooks/stripe", "/webhooks/stripe/connect"])
    async def test_a_signed_body_that_chokes_the_parser_is_400(
        self, client: httpx.AsyncClient, settings: Settings, body: bytes, path: str, json_logs: Logs
    ) -> None:
        secret = settings.webhook_secret if path == "/webhooks/stripe" else settings.connect_webhook_secret
        json_logs()

        response = await client.post(path, content=body, headers=stripe_events.signed_headers(body, secret))

        assert response.status_code == 400
        assert response.json()["error"] == "invalid_payload"
        lines = json_logs()
        assert [line for line in lines if line["level"] not in {"info", "debug"} or "exception" in line] == []
        assert [line["level"] for line in lines if line["event"] == "webhook refused"] == ["info"]


# Strings full of brackets, quotes and backslashes: what a byte-level depth count must skip.
_tricky_text = st.text(alphabet='[]{}"\\ab\u00e9', max_size=6)
json_values = st.recursive(
    st.none() | st.integers() | st.booleans() | _tricky_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_tricky_text, children, max_size=3),
    max_leaves=40,
)


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


class TestNestingDepth:
    @given(json_values, st.booleans())
    def test_the_byte_level_count_agrees_with_the_parsed_value(self, value: Any, ascii_only: bool) -> None:
        body = json.dumps(value, ensure_ascii=ascii_only).encode()
        levels = depth(value)

        for limit in range(max(levels - 2, 0), levels + 2):
            assert _nested_deeper_than(body, limit) == (levels > limit)
