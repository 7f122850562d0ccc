"""The webhook endpoint API: the secret is shown once and kept encrypted, changes are audited,
bad input is a clear 4xx, and every route answers 404 for another organisation's endpoint."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from campaigns.integrations import signing
from campaigns.integrations.endpoint_models import WebhookEndpoint
from service.audit import AuditEntry
from service.db import Database
from service.settings import Settings, SettingsError, load_settings
from tests import builders
from tests.campaigns.integrations.conftest import add_endpoint, dispatcher, emit
from tests.campaigns.integrations.receiver import Receiver
from tests.service.log_capture import Logs

BASE = "/api/v1/webhook-endpoints"


class TestEndpoints:
    async def test_add_list_change_and_delete(self, client: httpx.AsyncClient) -> None:
        org = await builders.sign_up(client)
        created = await client.post(
            BASE,
            json={
                "url": "https://crm.example.org/in",
                "enabled_events": ["donation.confirmed", "match.paid"],
            },
            headers=org.headers,
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["secret"].startswith("whsec_") and len(body["secret"]) == 70
        assert (body["enabled"], body["enabled_events"], body["description"]) == (
            True,
            ["donation.confirmed", "match.paid"],
            "",
        )
        url = f"{BASE}/{body['id']}"

        changed = await client.patch(
            url, json={"enabled_events": ["*"], "description": "CRM", "enabled": False}, headers=org.headers
        )
        assert changed.status_code == 200, changed.text
        assert (changed.json()["enabled_events"], changed.json()["enabled"]) == (["*"], False)
        assert changed.json()["disabled_reason"] == "member"
        listed = (await client.get(BASE, headers=org.headers)).json()["data"]
        assert [e["id"] for e in listed] == [body["id"]]
        assert (await client.get(url, headers=org.headers)).json()["description"] == "CRM"

        deleted = await client.delete(url, headers=org.headers)
        assert deleted.status_code == 200
        assert (await client.get(url, headers=org.headers)).status_code == 404
        assert (await client.get(BASE, headers=org.headers)).json()["data"] == []

    async def test_the_secret_is_shown_once_stored_encrypted_and_never_logged_or_audited(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, json_logs: Logs
    ) -> None:
        org = await builders.sign_up(client)
        created = (
            await client.post(
                BASE, json={"url": "https://crm.example.org/in", "enabled_events": ["*"]}, headers=org.headers
            )
        ).json()
        secret = created["secret"]
        url = f"{BASE}/{created['id']}"
        rolled = (await client.post(url + "/roll-secret", headers=org.headers)).json()["secret"]
        later = [
            await client.get(url, headers=org.headers),
            await client.get(BASE, headers=org.headers),
            await client.patch(url, json={"description": "x"}, headers=org.headers),
            await client.get(url + "/deliveries", headers=org.headers),
        ]

        for response in later:
            assert response.status_code == 200, response.text
            assert secret not in response.text and rolled not in response.text
            assert "secret" not in response.json()
        async with database.transaction() as session:
            row = await session.get(WebhookEndpoint, uuid.UUID(created["id"]))
            entries = list(
                await session.scalars(sa.select(AuditEntry).where(AuditEntry.subject_id == created["id"]))
            )
        assert row is not None
        stored = f"{row.secret_ciphertext} {row.previous_secret_ciphertext}"
        assert secret not in stored and rolled not in stored
        assert (
            signing.decrypt(settings.secret_key, endpoint_id=row.id, stored=row.secret_ciphertext) == rolled
        )
        assert [e.action for e in entries] == [
            "webhook_endpoint.created",
            "webhook_endpoint.secret_rolled",
            "webhook_endpoint.updated",
        ]
        assert all(secret not in str((e.before, e.after)) for e in entries)
        lines = str(json_logs())
        assert secret not in lines and rolled not in lines

    async def test_a_ciphertext_moved_to_another_endpoint_does_not_decrypt(self, settings: Settings) -> None:
        stored = signing.encrypt(settings.secret_key, endpoint_id=uuid.uuid4(), secret="whsec_x")
        with pytest.raises(signing.SecretUnreadable):
            signing.decrypt(settings.secret_key, endpoint_id=uuid.uuid4(), stored=stored)
        with pytest.raises(signing.SecretUnreadable):
            signing.decrypt("another key " * 4, endpoint_id=uuid.uuid4(), stored=stored)

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"url": "https://crm.example.org/in", "enabled_events": []}, "enabled_events"),
            (
                {"url": "https://crm.example.org/in", "enabled_events": ["donation.exploded"]},
                "enabled_events",
            ),
            ({"url": "https://crm.example.org/in", "enabled_events": ["*", "match.paid"]}, "enabled_events"),
            ({"url": "http://crm.example.org/in", "enabled_events": ["*"]}, "url"),
            ({"url": "https://crm.example.org/in\n", "enabled_events": ["*"]}, "url"),
            ({"url": "https://crm.example.org/in", "enabled_events": ["*"], "secret": "mine"}, "secret"),
        ],
    )
    async def test_bad_input_is_a_422_naming_the_field(
        self, client: httpx.AsyncClient, payload: dict[str, Any], field: str
    ) -> None:
        org = await builders.sign_up(client)
        response = await client.post(BASE, json=payload, headers=org.headers)
        assert response.status_code == 422, response.text
        assert field in response.json()["fields"], response.json()

    async def test_null_in_a_change_is_refused_not_applied(self, client: httpx.AsyncClient) -> None:
        org = await builders.sign_up(client)
        created = (
            await client.post(
                BASE, json={"url": "https://crm.example.org/in", "enabled_events": ["*"]}, headers=org.headers
            )
        ).json()
        response = await client.patch(f"{BASE}/{created['id']}", json={"url": None}, headers=org.headers)
        assert response.status_code == 422, response.text
        assert (await client.get(f"{BASE}/{created['id']}", headers=org.headers)).json()["url"] == created[
            "url"
        ]

    async def test_sixteen_endpoints_at_most(self, client: httpx.AsyncClient) -> None:
        org = await builders.sign_up(client)
        for n in range(16):
            payload = {"url": f"https://crm.example.org/{n}", "enabled_events": ["*"]}
            assert (await client.post(BASE, json=payload, headers=org.headers)).status_code == 201
        refused = await client.post(
            BASE, json={"url": "https://crm.example.org/17", "enabled_events": ["*"]}, headers=org.headers
        )
        assert refused.status_code == 409
        assert refused.json()["error"] == "too_many_webhook_endpoints"


class TestDeliveryLog:
    async def test_the_log_pages_newest_first_with_each_attempt(
        self,
        wh_client: httpx.AsyncClient,
        wh_database: Database,
        wh_settings: Settings,
        receiver: Receiver,
    ) -> None:
        org = await builders.sign_up(wh_client)
        endpoint = await add_endpoint(wh_client, org, receiver.url + "/hooks")
        ids = [await emit(wh_database, org) for _ in range(3)]
        receiver.answer(status=500, body=b"<b>nope</b>")
        await dispatcher(wh_settings).run(wh_database)

        first = await wh_client.get(f"{BASE}/{endpoint['id']}/deliveries?limit=2", headers=org.headers)
        assert first.status_code == 200, first.text
        page = first.json()
        assert len(page["data"]) == 2 and page["next_cursor"]
        rest = (
            await wh_client.get(
                f"{BASE}/{endpoint['id']}/deliveries?limit=2&cursor={page['next_cursor']}",
                headers=org.headers,
            )
        ).json()
        listed = page["data"] + rest["data"]
        assert sorted(d["event_id"] for d in listed) == sorted(ids)
        assert rest["next_cursor"] is None
        logs = [d["log"][0] for d in listed]
        assert sorted((a["outcome"], a["status_code"]) for a in logs) == [
            ("delivered", 200),
            ("delivered", 200),
            ("http_error", 500),
        ]
        assert "<b>nope</b>" in [a["response_body"] for a in logs]
        failed = await wh_client.get(
            f"{BASE}/{endpoint['id']}/deliveries?status=pending", headers=org.headers
        )
        assert [d["attempts"] for d in failed.json()["data"]] == [1]
        bad = await wh_client.get(f"{BASE}/{endpoint['id']}/deliveries?cursor=nonsense", headers=org.headers)
        assert bad.status_code == 400


class TestTenantIsolation:
    async def test_every_route_is_404_for_another_organisations_endpoint(
        self, wh_client: httpx.AsyncClient, wh_database: Database, receiver: Receiver
    ) -> None:
        owner = await builders.sign_up(wh_client)
        other = await builders.sign_up(wh_client)
        endpoint = await add_endpoint(wh_client, owner, receiver.url + "/hooks")
        await emit(wh_database, owner)
        deliveries = (
            await wh_client.get(f"{BASE}/{endpoint['id']}/deliveries", headers=owner.headers)
        ).json()
        delivery_id = deliveries["data"][0]["id"]
        url = f"{BASE}/{endpoint['id']}"
        calls: list[tuple[str, str, dict[str, Any] | None]] = [
            ("GET", url, None),
            ("PATCH", url, {"description": "mine now"}),
            ("DELETE", url, None),
            ("POST", url + "/roll-secret", None),
            ("POST", url + "/test", None),
            ("GET", url + "/deliveries", None),
            ("POST", url + f"/deliveries/{delivery_id}/retry", None),
            ("POST", url + "/replay", {"since": "2020-01-01T00:00:00Z"}),
        ]
        before = (await wh_client.get(url, headers=owner.headers)).json()

        for method, path, body in calls:
            response = await wh_client.request(method, path, json=body, headers=other.headers)
            assert response.status_code == 404, (method, path, response.text)

        assert (await wh_client.get(url, headers=owner.headers)).json() == before
        assert (await wh_client.get(BASE, headers=other.headers)).json()["data"] == []
        assert len((await wh_client.get(url + "/deliveries", headers=owner.headers)).json()["data"]) == 1


class TestSettings:
    def test_production_refuses_the_loopback_allowance(self, tmp_path: Any) -> None:
        env = {
            "GOODLOOP_ENV": "production",
            "GOODLOOP_SECRET_KEY": "kX9f2LmQ7vR4tY8wZ1aB6cD3eF0gH5jN",
            "DATABASE_URL": "postgresql+asyncpg://u:p@db/goodloop",
            "STRIPE_SECRET_KEY": "sk_live_abc",
            "STRIPE_WEBHOOK_SECRET": "whsec_" + "a1B2c3D4" * 4,
            "STRIPE_CONNECT_WEBHOOK_SECRET": "whsec_" + "e5F6g7H8" * 4,
            "PUBLIC_BASE_URL": "https://give.example.org",
            "GOODLOOP_PRIVACY_MARKDOWN": "x",
            "GOODLOOP_TERMS_MARKDOWN": "x",
            "GOODLOOP_SMTP_URL": "smtp://mail.example.org:587",
            "GOODLOOP_MAIL_FROM": "Goodloop <gifts@example.org>",
            "GOODLOOP_WEBHOOKS_ALLOW_LOOPBACK": "1",
        }
        with pytest.raises(SettingsError, match="GOODLOOP_WEBHOOKS_ALLOW_LOOPBACK"):
            load_settings(env)

    def test_development_reads_it(self, tmp_path: Any) -> None:
        base = {"GOODLOOP_SECRET_KEY": "k" * 40, "GOODLOOP_DATA_DIR": str(tmp_path)}
        assert load_settings({**base, "GOODLOOP_WEBHOOKS_ALLOW_LOOPBACK": "1"}).webhooks_allow_loopback
        assert not load_settings(base).webhooks_allow_loopback
        with pytest.raises(SettingsError, match="must be 1 or unset"):
            load_settings({**base, "GOODLOOP_WEBHOOKS_ALLOW_LOOPBACK": "yes"})
