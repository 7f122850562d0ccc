"""The dashboard's webhook pages, driven like a browser without JavaScript."""

from __future__ import annotations

import re

import httpx

from service.db import Database
from service.settings import Settings
from tests import builders
from tests.campaigns.dashboard.helpers import add_member, log_in, submit
from tests.campaigns.integrations.conftest import deliveries_of, dispatcher, emit
from tests.campaigns.integrations.receiver import Receiver

_SECRET = re.compile(r'id="signing-secret" class="secret" value="(whsec_[0-9a-f]{64})"')


class TestWebhookPages:
    async def test_an_owner_adds_an_endpoint_sees_its_secret_once_and_reads_the_log(
        self,
        wh_client: httpx.AsyncClient,
        wh_database: Database,
        wh_settings: Settings,
        receiver: Receiver,
    ) -> None:
        org = await builders.sign_up(wh_client)
        await log_in(wh_client, org.email)
        listing = await wh_client.get("/dashboard/webhooks")
        assert listing.status_code == 200
        assert 'id="no-webhooks"' in listing.text

        added = await submit(
            wh_client,
            "/dashboard/webhooks",
            {"url": receiver.url + "/hooks", "description": "CRM", "enabled_events": "*"},
            page="/dashboard/webhooks",
        )
        assert added.status_code == 200, added.text
        match = _SECRET.search(added.text)
        assert match is not None
        endpoint_path = re.search(r'action="(/dashboard/webhooks/[0-9a-f-]+)/test"', added.text)
        assert endpoint_path is not None
        page = endpoint_path.group(1)
        shown = await wh_client.get(page)
        assert match.group(1) not in shown.text, "shown once"

        await emit(wh_database, org)
        receiver.answer(status=500, body=b"<script>alert(1)</script>")
        await dispatcher(wh_settings).run(wh_database)
        log = (await wh_client.get(page)).text
        assert "HTTP 500" in log
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in log
        assert "<script>alert(1)</script>" not in log

        [delivery] = await deliveries_of(wh_database, page.rsplit("/", 1)[1])
        retried = await submit(wh_client, f"{page}/deliveries/{delivery.id}/retry", page=page)
        assert retried.status_code == 303
        await dispatcher(wh_settings).run(wh_database)
        assert "HTTP 200" in (await wh_client.get(page)).text

        rolled = await submit(wh_client, f"{page}/roll-secret", page=page)
        new_secret = _SECRET.search(rolled.text)
        assert new_secret is not None and new_secret.group(1) != match.group(1)
        assert "The old secret keeps signing too until" in rolled.text

        saved = await submit(
            wh_client,
            page,
            {"url": receiver.url + "/other", "description": "CRM", "enabled_events": "match.paid"},
            page=page,
        )
        assert saved.status_code == 303
        after = (await wh_client.get(page)).text
        assert "match.paid" in after and "disabled" in after

        refused = await submit(
            wh_client, page, {"url": "https://10.0.0.1/x", "enabled_events": "*", "enabled": "on"}, page=page
        )
        assert refused.status_code == 422
        assert 'id="url-error"' in refused.text

        deleted = await submit(wh_client, f"{page}/delete", page=page)
        assert deleted.status_code == 303
        assert (await wh_client.get(page)).status_code == 404

    async def test_a_viewer_reads_but_gets_no_controls(
        self, wh_client: httpx.AsyncClient, receiver: Receiver
    ) -> None:
        org = await builders.sign_up(wh_client)
        created = await wh_client.post(
            "/api/v1/webhook-endpoints",
            json={"url": receiver.url + "/hooks", "enabled_events": ["*"]},
            headers=org.headers,
        )
        await add_member(wh_client, org, role="viewer")
        page = f"/dashboard/webhooks/{created.json()['id']}"

        shown = await wh_client.get(page)

        assert shown.status_code == 200
        assert receiver.url in shown.text
        assert "roll-secret" not in shown.text and "Delete endpoint" not in shown.text
        listing = await wh_client.get("/dashboard/webhooks")
        assert "Add an endpoint" not in listing.text

    async def test_bad_input_is_shown_next_to_the_field(self, wh_client: httpx.AsyncClient) -> None:
        org = await builders.sign_up(wh_client)
        await log_in(wh_client, org.email)
        response = await submit(
            wh_client, "/dashboard/webhooks", {"url": "ftp://x.example.org/"}, page="/dashboard/webhooks"
        )
        assert response.status_code == 422
        assert 'id="url-error"' in response.text
        assert 'id="enabled_events-error"' in response.text
