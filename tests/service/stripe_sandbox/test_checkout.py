"""Checkout Sessions through the real SDK: create, retrieve, expire, idempotency, errors."""

from __future__ import annotations

import time

import httpx
import pytest
import stripe

from tests.service.stripe_sandbox.conftest import Sandbox, sdk_client, session_params


class TestCreateSession:
    async def test_nested_params_round_trip(self, sandbox: Sandbox) -> None:
        expires_at = int(time.time()) + 3600

        session = await sandbox.client.v1.checkout.sessions.create_async(
            session_params(expires_at=expires_at), options={"idempotency_key": "donation:1:checkout"}
        )

        assert session.id.startswith("cs_test_")
        assert session.object == "checkout.session"
        assert session.livemode is False
        assert session.mode == "payment"
        assert session.submit_type == "donate"
        assert session.amount_total == 2_500
        assert session.currency == "eur"
        assert session.customer_email == "donor@example.org"
        assert session.metadata.to_dict() == {"donation_id": "don_123", "campaign": "rivers"}
        assert session.status == "open"
        assert session.payment_status == "unpaid"
        assert session.expires_at == expires_at
        assert session.url == f"{sandbox.url}/checkout/{session.id}"
        assert abs(session.created - time.time()) < 60

    async def test_quantity_and_destination_are_honoured(self, sandbox: Sandbox) -> None:
        account = await sandbox.client.v1.accounts.create_async({"type": "express", "country": "DE"})
        params = session_params(
            payment_intent_data={
                "metadata": {"donation_id": "d9"},
                "transfer_data": {"destination": account.id},
            }
        )
        params["line_items"][0]["quantity"] = 3

        session = await sandbox.client.v1.checkout.sessions.create_async(params)
        await sandbox.control(f"sessions/{session.id}/pay")
        paid = await sandbox.client.v1.checkout.sessions.retrieve_async(session.id)
        assert isinstance(paid.payment_intent, str)
        intent = await sandbox.client.v1.payment_intents.retrieve_async(paid.payment_intent)

        assert session.amount_total == 7_500
        assert intent.amount == 7_500
        assert intent.metadata.to_dict() == {"donation_id": "d9"}
        assert intent.transfer_data is not None
        assert intent.transfer_data.destination == account.id

    async def test_missing_line_items_is_an_invalid_request(self, sandbox: Sandbox) -> None:
        params = session_params()
        del params["line_items"]

        with pytest.raises(stripe.InvalidRequestError) as raised:
            await sandbox.client.v1.checkout.sessions.create_async(params)

        assert raised.value.param == "line_items"
        assert raised.value.http_status == 400

    async def test_expiry_outside_stripes_window_is_refused(self, sandbox: Sandbox) -> None:
        with pytest.raises(stripe.InvalidRequestError) as raised:
            await sandbox.client.v1.checkout.sessions.create_async(
                session_params(expires_at=int(time.time()) + 60)
            )

        assert raised.value.param == "expires_at"

    async def test_unknown_destination_is_resource_missing(self, sandbox: Sandbox) -> None:
        params = session_params(payment_intent_data={"transfer_data": {"destination": "acct_nope"}})

        with pytest.raises(stripe.InvalidRequestError) as raised:
            await sandbox.client.v1.checkout.sessions.create_async(params)

        assert raised.value.code == "resource_missing"


class TestRetrieveAndExpire:
    async def test_retrieve_returns_the_created_session(self, sandbox: Sandbox) -> None:
        created = await sandbox.client.v1.checkout.sessions.create_async(session_params())

        fetched = await sandbox.client.v1.checkout.sessions.retrieve_async(created.id)

        assert fetched.to_dict() == created.to_dict()

    async def test_unknown_session_raises_resource_missing(self, sandbox: Sandbox) -> None:
        with pytest.raises(stripe.InvalidRequestError) as raised:
            await sandbox.client.v1.checkout.sessions.retrieve_async("cs_test_missing")

        assert raised.value.code == "resource_missing"
        assert raised.value.http_status == 404
        assert "cs_test_missing" in str(raised.value.user_message)

    async def test_expire_closes_the_session_and_emits_an_event(self, sandbox: Sandbox) -> None:
        created = await sandbox.client.v1.checkout.sessions.create_async(session_params())

        expired = await sandbox.client.v1.checkout.sessions.expire_async(created.id)
        await sandbox.flush()

        assert expired.status == "expired"
        assert expired.url is None
        assert sandbox.captured.types() == ["checkout.session.expired"]

    async def test_expiring_twice_is_an_invalid_request(self, sandbox: Sandbox) -> None:
        created = await sandbox.client.v1.checkout.sessions.create_async(session_params())
        await sandbox.client.v1.checkout.sessions.expire_async(created.id)

        with pytest.raises(stripe.InvalidRequestError):
            await sandbox.client.v1.checkout.sessions.expire_async(created.id)

    async def test_expand_payment_intent(self, sandbox: Sandbox) -> None:
        created = await sandbox.client.v1.checkout.sessions.create_async(session_params())
        await sandbox.control(f"sessions/{created.id}/pay")

        fetched = await sandbox.client.v1.checkout.sessions.retrieve_async(
            created.id, {"expand": ["payment_intent.latest_charge"]}
        )

        assert isinstance(fetched.payment_intent, stripe.PaymentIntent)
        assert isinstance(fetched.payment_intent.latest_charge, stripe.Charge)
        assert fetched.payment_intent.latest_charge.status == "succeeded"


class TestIdempotency:
    async def test_same_key_and_params_replays_the_same_session(self, sandbox: Sandbox) -> None:
        options: stripe.RequestOptions = {"idempotency_key": "donation:42:checkout"}

        first = await sandbox.client.v1.checkout.sessions.create_async(session_params(), options=options)
        second = await sandbox.client.v1.checkout.sessions.create_async(session_params(), options=options)

        assert second.id == first.id
        assert second.last_response is not None
        assert second.last_response.headers.get("Idempotent-Replayed") == "true"
        assert len([o for o in sandbox.state.objects.values() if o["object"] == "checkout.session"]) == 1

    async def test_same_key_with_different_params_raises_idempotency_error(self, sandbox: Sandbox) -> None:
        options: stripe.RequestOptions = {"idempotency_key": "donation:43:checkout"}
        await sandbox.client.v1.checkout.sessions.create_async(session_params(), options=options)

        with pytest.raises(stripe.IdempotencyError):
            await sandbox.client.v1.checkout.sessions.create_async(
                session_params(customer_email="other@example.org"), options=options
            )

    async def test_different_keys_create_different_sessions(self, sandbox: Sandbox) -> None:
        first = await sandbox.client.v1.checkout.sessions.create_async(
            session_params(), options={"idempotency_key": "a"}
        )
        second = await sandbox.client.v1.checkout.sessions.create_async(
            session_params(), options={"idempotency_key": "b"}
        )

        assert first.id != second.id


class TestAuthentication:
    async def test_missing_api_key_header_is_401(self, sandbox: Sandbox) -> None:
        async with httpx.AsyncClient() as http:
            response = await http.get(f"{sandbox.url}/v1/checkout/sessions/cs_test_x")

        assert response.status_code == 401
        assert response.json()["error"]["type"] == "invalid_request_error"

    async def test_live_key_raises_authentication_error(self, sandbox: Sandbox) -> None:
        client = sdk_client(sandbox.url, api_key="sk_live_not_here")

        with pytest.raises(stripe.AuthenticationError):
            await client.v1.checkout.sessions.retrieve_async("cs_test_x")

    async def test_unknown_path_is_a_stripe_shaped_404(self, sandbox: Sandbox) -> None:
        async with httpx.AsyncClient() as http:
            response = await http.get(f"{sandbox.url}/v1/nothing_here")

        assert response.status_code == 404
        assert "Unrecognized request URL" in response.json()["error"]["message"]
