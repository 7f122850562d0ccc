"""Finance admins see payment mismatches: the admin API (paged, by reason, in OpenAPI) and the
console page; reviewers are refused and get no nav link."""

from __future__ import annotations

import re

import httpx

from campaigns.donations.mismatches import MismatchReason
from service.auth.models import AdminRole
from service.db import Database
from service.settings import Settings
from tests.campaigns.matching.helpers import World, make_world
from tests.console.helpers import signed_in_admin
from tests.webhooks.builders import insert_donation, process_all
from tests.webhooks.forgery import FORGER, JSON, Delivery, counted, forged, send
from tests.webhooks.stripe_events import Payment, event


async def one_forged_mismatch(world: World) -> tuple[Payment, JSON]:
    victim = await insert_donation(world.database, world.campaign, amount_minor=2500)
    forged_event = event(
        "checkout.session.completed", forged(victim, amount_minor=50).checkout_session(), account=FORGER
    )
    await send(world, Delivery(forged_event, connect=True))
    await process_all(world.database)
    return victim, forged_event


class TestFinanceSeesThem:
    async def test_api_lists_mismatches_to_finance_and_refuses_reviewers(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        world = await make_world(client, database, settings)
        victim, forged_event = await one_forged_mismatch(world)
        second = event("checkout.session.completed", {**victim.checkout_session(), "amount_total": 50})
        await send(world, Delivery(second))
        await process_all(database)

        listed = await client.get("/api/v1/admin/payment-mismatches?limit=1", headers=world.finance.headers)
        rest = await client.get(
            f"/api/v1/admin/payment-mismatches?limit=1&cursor={listed.json()['next_cursor']}",
            headers=world.finance.headers,
        )
        only_amounts = await client.get(
            "/api/v1/admin/payment-mismatches?reason=wrong_amount", headers=world.finance.headers
        )
        refused = await client.get("/api/v1/admin/payment-mismatches", headers=world.reviewer.headers)
        anonymous = await client.get("/api/v1/admin/payment-mismatches?reason=nonsense")
        bad_reason = await client.get(
            "/api/v1/admin/payment-mismatches?reason=nonsense", headers=world.finance.headers
        )

        assert listed.status_code == 200, listed.text
        (first,) = listed.json()["data"]
        assert first["stripe_event_id"] == forged_event["id"]
        assert (first["reason"], first["stripe_account_id"], first["expected_account_id"]) == (
            "wrong_account",
            FORGER,
            None,
        )
        assert first["claimed_donation_id"] == victim.donation_id
        (after,) = rest.json()["data"]
        assert (after["reason"], after["expected_amount_minor"], after["received_amount_minor"]) == (
            "wrong_amount",
            2500,
            50,
        )
        assert rest.json()["next_cursor"] is None
        assert [m["reason"] for m in only_amounts.json()["data"]] == ["wrong_amount"]
        assert (refused.status_code, refused.json()["error"]) == (403, "admin_role_required")
        assert anonymous.status_code == 401
        assert bad_reason.status_code == 422

    async def test_openapi_describes_the_endpoint(self, client: httpx.AsyncClient) -> None:
        document = (await client.get("/api/v1/openapi.json")).json()

        operation = document["paths"]["/api/v1/admin/payment-mismatches"]["get"]
        assert {p["name"] for p in operation["parameters"]} >= {"limit", "cursor", "reason"}
        assert {"200", "403"} <= set(operation["responses"])

    async def test_console_page_shows_them_to_finance_only(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        world = await make_world(client, database, settings)
        _, forged_event = await one_forged_mismatch(world)
        await signed_in_admin(client, database, role=AdminRole.REVIEWER)
        as_reviewer = await client.get("/admin/payment-mismatches")
        reviewer_home = await client.get("/admin")
        client.cookies.clear()
        await signed_in_admin(client, database, role=AdminRole.FINANCE)

        page = await client.get("/admin/payment-mismatches")
        home = await client.get("/admin")

        assert as_reviewer.status_code == 403
        assert 'id="nav-payment-mismatches"' not in reviewer_home.text
        assert page.status_code == 200
        assert f'data-event="{forged_event["id"]}"' in page.text
        assert 'data-reason="wrong_account"' in page.text
        assert FORGER in page.text
        assert 'id="nav-payment-mismatches"' in home.text

    async def test_metrics_count_each_reason(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        world = await make_world(client, database, settings)
        before = counted(MismatchReason.WRONG_ACCOUNT)
        await one_forged_mismatch(world)

        text = (await client.get("/metrics")).text

        samples = dict(
            re.findall(r'^goodloop_payment_mismatches_total\{reason="([a-z_]+)"\} (\S+)$', text, re.M)
        )
        assert set(samples) == {reason.value for reason in MismatchReason}
        assert float(samples["wrong_account"]) == before + 1
