"""Payouts as CSV: a match paid through a Stripe Transfer (outbox against the sandbox, its
webhooks relayed signed), downloaded by its nonprofit and by an admin, never by another org."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from service.auth.models import AdminRole
from service.db import Database, utcnow
from service.settings import Settings
from tests.builders import insert_admin
from tests.campaigns.dashboard.helpers import log_in
from tests.campaigns.matching.helpers import give, make_program, only_match
from tests.console.helpers import signed_in_admin
from tests.exports.builders import parse_csv, tenant
from tests.payouts.helpers import (
    PayoutWorld,
    Sandbox,
    connect_account,
    make_payout_world,
    payouts,
    relay,
    run_outbox,
)


@pytest.fixture
async def paid(
    client: httpx.AsyncClient, database: Database, settings: Settings, sandbox: Sandbox
) -> PayoutWorld:
    """One match approved, transferred after its hold and confirmed by transfer.created."""
    pw = await make_payout_world(client, database, settings, sandbox)
    await make_program(pw.world, name="Spring match")
    await connect_account(pw)
    payment = await give(pw.world, amount_minor=2_000)
    match = await only_match(database, payment)
    approved = await client.post(
        f"/api/v1/admin/matches/{match.id}/approve", json={}, headers=pw.world.reviewer.headers
    )
    assert approved.status_code == 200, approved.text
    await run_outbox(pw, now=utcnow() + timedelta(days=8))
    await relay(pw)
    return pw


class TestPayoutsCsv:
    async def test_the_nonprofit_sees_its_transfer(self, paid: PayoutWorld) -> None:
        (payout,) = await payouts(paid.database)

        response = await paid.world.client.get("/api/v1/exports/payouts.csv", headers=paid.org.headers)

        (row,) = parse_csv(response)
        assert (row["payout_id"], row["match_id"], row["program"]) == (
            str(payout.id),
            str(payout.match_id),
            "Spring match",
        )
        assert (row["amount"], row["netted"], row["transferred"], row["reversed"]) == (
            "20.00",
            "0.00",
            "20.00",
            "0.00",
        )
        assert (row["currency"], row["status"]) == ("EUR", "paid")
        assert row["stripe_transfer_id"] == payout.stripe_transfer_id and row[
            "stripe_transfer_id"
        ].startswith("tr_")
        assert row["transfer_group"] == payout.transfer_group
        assert "last_error" not in row and "nonprofit" not in row

    async def test_status_filter_applies(self, paid: PayoutWorld) -> None:
        client, headers = paid.world.client, paid.org.headers

        paid_rows = await client.get(
            "/api/v1/exports/payouts.csv", params={"status": "paid"}, headers=headers
        )
        payable_rows = await client.get(
            "/api/v1/exports/payouts.csv", params={"status": "payable"}, headers=headers
        )
        bad = await client.get("/api/v1/exports/payouts.csv", params={"status": "sort-of"}, headers=headers)

        assert len(parse_csv(paid_rows)) == 1
        assert parse_csv(payable_rows) == []
        assert bad.status_code == 422 and "status" in bad.json()["fields"]

    async def test_another_nonprofit_gets_none_of_it(self, paid: PayoutWorld) -> None:
        client, database = paid.world.client, paid.database
        other = await tenant(client, database, "eur")

        api = await client.get("/api/v1/exports/payouts.csv", headers=other.org.headers)
        await log_in(client, other.org.email)
        page = await client.get("/dashboard/exports/payouts.csv")

        assert parse_csv(api) == []
        assert parse_csv(page) == []
        assert paid.org.id not in api.text + page.text

    async def test_admins_see_every_organisations_payouts(self, paid: PayoutWorld) -> None:
        finance = await insert_admin(paid.database, role=AdminRole.FINANCE)
        client = paid.world.client

        everyone = await client.get("/api/v1/admin/exports/payouts.csv", headers=finance.headers)
        narrowed = await client.get(
            "/api/v1/admin/exports/payouts.csv",
            params={"nonprofit_id": str(paid.world.campaign.id)},  # a campaign id is no nonprofit's
            headers=finance.headers,
        )
        refused = await client.get("/api/v1/admin/exports/payouts.csv", headers=paid.org.headers)

        (row,) = parse_csv(everyone)
        assert (row["nonprofit_id"], row["attempts"], row["last_error"]) == (paid.org.id, "1", "")
        assert parse_csv(narrowed) == []
        assert refused.status_code == 401

    async def test_a_signed_in_admin_downloads_them_from_the_console(self, paid: PayoutWorld) -> None:
        client = paid.world.client
        await signed_in_admin(client, paid.database, role=AdminRole.FINANCE)

        response = await client.get("/admin/exports/payouts.csv", params={"status": "paid"})

        (row,) = parse_csv(response)
        assert (row["nonprofit_id"], row["transferred"], row["currency"]) == (paid.org.id, "20.00", "EUR")
