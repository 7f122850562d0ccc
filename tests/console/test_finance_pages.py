"""The finance page: each program's figures from the ledger with a bar, and the payouts made."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx

from campaigns.console.finance_pages import BAR_WIDTH, budget_bar
from campaigns.matching.models import MatchStatus
from campaigns.payouts.finance import ProgramFinance
from service.auth.models import AdminRole
from service.db import Database, utcnow
from tests.campaigns.matching.helpers import give, make_program, only_match
from tests.console.helpers import signed_in_admin
from tests.payouts.helpers import (
    PayoutWorld,
    connect_account,
    payouts,
    relay,
    run_outbox,
)


async def pay_a_match(pw: PayoutWorld, *, amount_minor: int) -> uuid.UUID:
    """A gift, its match approved through the API, paid by the outbox, confirmed by webhook."""
    payment = await give(pw.world, amount_minor=amount_minor)
    match = await only_match(pw.database, payment)
    response = await pw.world.client.post(
        f"/api/v1/admin/matches/{match.id}/approve", json={}, headers=pw.world.reviewer.headers
    )
    assert response.status_code == 200, response.text
    await run_outbox(pw, now=utcnow() + timedelta(days=8))
    await relay(pw)
    assert (await only_match(pw.database, payment)).status is MatchStatus.PAID
    return match.id


class TestFinancePage:
    async def test_programs_and_payouts_from_the_ledger(
        self, client: httpx.AsyncClient, pw: PayoutWorld
    ) -> None:
        program_id = await make_program(pw.world, budget_minor=100_000)
        await connect_account(pw)
        match_id = await pay_a_match(pw, amount_minor=2_000)
        await give(pw.world, amount_minor=3_000)  # reserved, waiting out its hold
        (payout,) = await payouts(pw.database)
        await signed_in_admin(client, pw.database, role=AdminRole.FINANCE)

        page = (await client.get("/admin/finance")).text

        row = page[page.index(f'id="program-{program_id}"') :]
        row = row[: row.index("</tr>")]
        assert '<td class="num budget">€1,000.00</td>' in row
        assert '<td class="num paid">€20.00</td>' in row
        assert '<td class="num reserved">€30.00</td>' in row
        assert '<td class="num available">€950.00</td>' in row
        assert 'class="segment-paid"' in page and 'class="segment-available"' in page
        payout_row = page[page.index(f'id="payout-{payout.id}"') :]
        payout_row = payout_row[: payout_row.index("</tr>")]
        assert f'href="/admin/matches/{match_id}"' in payout_row
        assert payout.stripe_transfer_id is not None and payout.stripe_transfer_id in payout_row
        assert 'href="/admin/exports/payouts.csv"' in page

    async def test_reviewers_cannot_open_it(self, client: httpx.AsyncClient, database: Database) -> None:
        await signed_in_admin(client, database, role=AdminRole.REVIEWER)
        assert (await client.get("/admin/finance")).status_code == 403

    async def test_an_empty_platform(self, client: httpx.AsyncClient, database: Database) -> None:
        await signed_in_admin(client, database, role=AdminRole.SUPERADMIN)
        page = (await client.get("/admin/finance")).text
        assert 'id="no-programs"' in page and 'id="no-payouts"' in page


class TestBudgetBar:
    def test_segments_are_shares_of_the_budget_and_never_overflow(self) -> None:
        row = ProgramFinance(
            program_id=uuid.uuid4(),
            name="Winter",
            currency="eur",
            budget_minor=10_000,
            available_minor=5_000,
            held_minor=500,
            reserved_minor=1_500,
            payable_minor=0,
            paid_minor=3_500,
            clawed_back_minor=500,
            returned_minor=0,
            receivable_minor=0,
        )
        bar = budget_bar(row)
        assert [(s.name, s.amount_minor) for s in bar.segments] == [
            ("paid", 3_000),
            ("reserved", 2_000),
            ("available", 5_000),
        ]
        assert [s.width for s in bar.segments] == [BAR_WIDTH * 3 // 10, BAR_WIDTH // 5, BAR_WIDTH // 2]
        assert bar.segments[-1].x + bar.segments[-1].width <= BAR_WIDTH
