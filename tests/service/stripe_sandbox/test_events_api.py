"""`GET /v1/events` and `/v1/events/{id}`: newest first, paginated, filtered."""

from __future__ import annotations

import pytest
import stripe

from tests.service.stripe_sandbox.conftest import Sandbox, session_params


async def _emit_pay_events(sandbox: Sandbox, payments: int) -> None:
    for _ in range(payments):
        session = await sandbox.client.v1.checkout.sessions.create_async(session_params())
        await sandbox.control(f"sessions/{session.id}/pay")


class TestEventsApi:
    async def test_list_is_newest_first_with_has_more(self, sandbox: Sandbox) -> None:
        await _emit_pay_events(sandbox, 2)

        page = await sandbox.client.v1.events.list_async({"limit": 4})

        assert [e.id for e in page.data] == [e["id"] for e in reversed(sandbox.state.events)][:4]
        assert page.has_more is True

    async def test_starting_after_walks_every_event_once(self, sandbox: Sandbox) -> None:
        await _emit_pay_events(sandbox, 3)

        seen = [
            e.id async for e in (await sandbox.client.v1.events.list_async({"limit": 2})).auto_paging_iter()
        ]

        assert seen == [e["id"] for e in reversed(sandbox.state.events)]
        assert len(seen) == 9

    async def test_types_filter(self, sandbox: Sandbox) -> None:
        await _emit_pay_events(sandbox, 2)

        page = await sandbox.client.v1.events.list_async(
            {"types": ["checkout.session.completed", "charge.succeeded"]}
        )

        assert sorted(e.type for e in page.data) == [
            "charge.succeeded",
            "charge.succeeded",
            "checkout.session.completed",
            "checkout.session.completed",
        ]
        assert page.has_more is False

    async def test_created_gte_filter(self, sandbox: Sandbox) -> None:
        await _emit_pay_events(sandbox, 1)
        newest = sandbox.state.events[-1]["created"]

        later = await sandbox.client.v1.events.list_async({"created": {"gte": newest + 1}})
        now = await sandbox.client.v1.events.list_async({"created": {"gte": newest}})

        assert later.data == []
        assert len(now.data) >= 1

    async def test_retrieve_returns_the_delivered_event(self, sandbox: Sandbox) -> None:
        await _emit_pay_events(sandbox, 1)
        await sandbox.flush()
        delivered = sandbox.captured.platform[-1]

        fetched = await sandbox.client.v1.events.retrieve_async(delivered.id)

        assert fetched.type == delivered.type
        assert fetched.data.object["id"] == delivered.data.object["id"]

    async def test_unknown_event_is_resource_missing(self, sandbox: Sandbox) -> None:
        with pytest.raises(stripe.InvalidRequestError) as raised:
            await sandbox.client.v1.events.retrieve_async("evt_nope")

        assert raised.value.code == "resource_missing"

    async def test_limit_over_100_is_refused(self, sandbox: Sandbox) -> None:
        with pytest.raises(stripe.InvalidRequestError) as raised:
            await sandbox.client.v1.events.list_async({"limit": 101})

        assert raised.value.param == "limit"
