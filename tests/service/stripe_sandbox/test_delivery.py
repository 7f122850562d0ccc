"""Webhook delivery: Stripe's signature, the endpoint per event kind, the delivery policy."""

from __future__ import annotations

import json

import httpx
import pytest
import stripe

from service.settings import Settings
from service.stripe_sandbox.app import create_sandbox_app
from service.stripe_sandbox.events import DeliveryPolicy, sign_payload
from tests.service.stripe_sandbox.conftest import Sandbox, sdk_client, session_params
from tests.service.stripe_sandbox.servers import Capture, serve_asgi

PAY_EVENTS = ["charge.succeeded", "payment_intent.succeeded", "checkout.session.completed"]


async def _paid_session(sandbox: Sandbox, **pay: object) -> str:
    session = await sandbox.client.v1.checkout.sessions.create_async(session_params())
    await sandbox.control(f"sessions/{session.id}/pay", dict(pay))
    return session.id


class TestSignature:
    def test_signature_is_what_the_sdk_verifies(self) -> None:
        payload = json.dumps({"id": "evt_1", "object": "event", "type": "x"})

        event = stripe.Webhook.construct_event(payload, sign_payload(payload, "whsec_abc"), "whsec_abc")

        assert event.id == "evt_1"

    def test_signature_with_another_secret_is_rejected(self) -> None:
        payload = json.dumps({"id": "evt_1", "object": "event"})

        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(payload, sign_payload(payload, "whsec_other"), "whsec_abc")

    def test_stale_timestamp_is_rejected(self) -> None:
        payload = json.dumps({"id": "evt_1", "object": "event"})
        header = sign_payload(payload, "whsec_abc", timestamp=1_000_000)

        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(payload, header, "whsec_abc")


class TestDelivery:
    async def test_control_pay_delivers_verified_events_in_stripe_order(self, sandbox: Sandbox) -> None:
        session_id = await _paid_session(sandbox, card_number="5555555555554444", risk_score=80)

        result = await sandbox.flush()

        assert sandbox.captured.types() == PAY_EVENTS
        assert all(d["delivered"] and d["attempts"] == 1 for d in result["deliveries"])
        charge = sandbox.captured.platform[0].data.object
        assert charge["outcome"]["risk_score"] == 80
        assert charge["outcome"]["risk_level"] == "highest"
        assert charge["payment_method_details"]["card"]["last4"] == "4444"
        assert sandbox.captured.platform[2].data.object["id"] == session_id

    async def test_events_are_shaped_like_stripes(self, sandbox: Sandbox) -> None:
        await _paid_session(sandbox)
        await sandbox.flush()

        event = sandbox.captured.platform[-1]

        assert event.id.startswith("evt_")
        assert event.object == "event"
        assert event.api_version == stripe.api_version
        assert event.livemode is False
        assert event.pending_webhooks == 1
        assert "account" not in event.to_dict()
        assert isinstance(event.created, int)

    async def test_duplicate_policy_sends_every_event_n_times(self, sandbox: Sandbox) -> None:
        await sandbox.control("delivery", {"duplicate": 2})

        await _paid_session(sandbox)
        await sandbox.flush()

        ids = [e.id for e in sandbox.captured.platform]
        assert len(ids) == 6
        assert len(set(ids)) == 3

    async def test_reverse_policy_reverses_each_batch(self, sandbox: Sandbox) -> None:
        await sandbox.control("delivery", {"reverse": True})

        await _paid_session(sandbox)
        await sandbox.flush()

        assert sandbox.captured.types() == list(reversed(PAY_EVENTS))

    async def test_drop_policy_records_but_delivers_nothing(self, sandbox: Sandbox) -> None:
        await sandbox.control("delivery", {"drop": True})

        await _paid_session(sandbox)
        result = await sandbox.flush()
        emitted = (await sandbox.http.get(f"{sandbox.url}/_control/events")).json()

        assert sandbox.captured.platform == []
        assert [d["dropped"] for d in result["deliveries"]] == [True, True, True]
        assert [e["type"] for e in emitted["events"]] == PAY_EVENTS

    async def test_delay_policy_holds_the_batch_until_flushed(self, sandbox: Sandbox) -> None:
        await sandbox.control("delivery", {"delay_s": 0.3})

        await _paid_session(sandbox)
        received_before_flush = list(sandbox.captured.platform)
        await sandbox.flush()

        assert received_before_flush == []
        assert sandbox.captured.types() == PAY_EVENTS

    async def test_empty_update_keeps_the_default_policy(self, sandbox: Sandbox) -> None:
        policy = await sandbox.control("delivery", {})

        assert policy == {"duplicate": 1, "reverse": False, "delay_s": 0.0, "drop": False}

    async def test_policy_given_at_construction_applies(
        self, sandbox_settings: Settings, capture: tuple[Capture, str]
    ) -> None:
        captured, capture_url = capture
        app = create_sandbox_app(
            sandbox_settings, delivery=DeliveryPolicy(reverse=True), webhook_base_url=capture_url
        )
        with serve_asgi(app) as url:
            client = sdk_client(url)
            session = await client.v1.checkout.sessions.create_async(session_params())
            async with httpx.AsyncClient() as http:
                await http.post(f"{url}/_control/sessions/{session.id}/pay", json={})
                await http.post(f"{url}/_control/deliveries/flush")

        assert captured.types() == list(reversed(PAY_EVENTS))

    async def test_invalid_policy_is_refused(self, sandbox: Sandbox) -> None:
        response = await sandbox.http.post(f"{sandbox.url}/_control/delivery", json={"duplicate": -1})

        assert response.status_code == 400
        assert response.json()["error"]["param"] == "duplicate"

    async def test_server_errors_are_retried(self, sandbox: Sandbox) -> None:
        sandbox.captured.fail_next = 2

        await _paid_session(sandbox)
        result = await sandbox.flush()

        assert sandbox.captured.types() == PAY_EVENTS
        assert result["deliveries"][0]["attempts"] == 3
        assert all(d["delivered"] for d in result["deliveries"])

    async def test_connection_errors_are_retried_then_recorded(self, sandbox: Sandbox) -> None:
        sandbox.state.deliverer.base_url = "http://127.0.0.1:9"

        await _paid_session(sandbox)
        result = await sandbox.flush()

        first = result["deliveries"][0]
        assert first["delivered"] is False
        assert first["attempts"] == 4
        assert "ConnectError" in first["error"]

    async def test_connect_events_go_to_the_connect_endpoint(self, sandbox: Sandbox) -> None:
        account = await sandbox.client.v1.accounts.create_async({"type": "express", "country": "DE"})

        await sandbox.control(f"accounts/{account.id}/onboard")
        await sandbox.flush()

        assert sandbox.captured.types() == []
        assert sandbox.captured.types(connect=True) == ["account.updated"]
        assert sandbox.captured.connect[0].account == account.id
