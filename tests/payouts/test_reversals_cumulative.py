"""Cumulative `transfer.reversed`: Stripe reports the absolute amount reversed so far, and a
second reversal's event carries the larger total. Delivered in order, out of order and
replayed, the books hold exactly what Stripe reversed in all, never a sum of the events.

Two paths book reversals: payouts of matched money (our reversals, named in their metadata,
settled by `campaigns.payouts.confirm`) and transfers of destination charges (booked from
`amount_reversed` by `campaigns.donations.bookkeeping.book_transfer`). Events are signed as
Stripe signs them and go through the app's webhook routes and the inbox processor.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from campaigns.donations import bookkeeping
from campaigns.matching.models import MatchStatus
from campaigns.payouts import bookkeeping as payout_bookkeeping
from campaigns.payouts.models import ReversalStatus
from service import ledger
from service.db import Database, utcnow
from service.settings import Settings
from tests.campaigns.matching.helpers import give, make_program, only_match, program_row
from tests.payouts.helpers import PayoutWorld, connect_account, relay, reversals, run_outbox
from tests.webhooks import stripe_events
from tests.webhooks.builders import LiveCampaign, create_live_campaign, deliver, insert_donation, process_all
from webhooks.commands import check_ledger

AFTER_HOLD = 8  # days: programs hold matches for 7

# Delivery plans over the two reversal events (0: 300 reversed, 1: 700 reversed in all).
PLANS = {
    "in_order_then_first_replayed": [0, 1, 0],
    "second_before_first": [1, 0],
    "second_before_first_then_both_replayed": [1, 0, 1, 0],
}


def later(days: int = AFTER_HOLD) -> datetime:
    return utcnow() + timedelta(days=days)


async def sum_of_code(database: Database, code: str, *, key_prefix: str) -> int:
    async with database.transaction() as session:
        total = await session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(ledger.LedgerTransfer.amount_minor), 0)).where(
                ledger.LedgerTransfer.code == code,
                ledger.LedgerTransfer.idempotency_key.startswith(key_prefix),
            )
        )
    return int(total or 0)


async def account_balance(database: Database, code: str) -> int:
    async with database.transaction() as session:
        return await ledger.balance(session, code=code, currency="eur")


async def deliver_signed(pw: PayoutWorld, evt: dict[str, Any]) -> None:
    """One delivery of a sandbox event, signed with the secret of the endpoint it goes to."""
    settings = pw.world.settings
    connect = evt.get("account") is not None
    response = await deliver(
        pw.world.client,
        evt,
        settings.connect_webhook_secret if connect else settings.webhook_secret,
        path="/webhooks/stripe/connect" if connect else "/webhooks/stripe",
    )
    assert response.status_code == 200, response.text


async def refund_to(
    pw: PayoutWorld, payment: stripe_events.Payment, *, refund_minor: int, total: int
) -> None:
    """A new refund of `refund_minor`, and the charge now refunded `total` in all."""
    made = payment.refund(refund_id=stripe_events.new_id("re"), amount_minor=refund_minor)
    for evt in (
        stripe_events.event("refund.created", made),
        stripe_events.event("charge.refunded", payment.charge(amount_refunded=total)),
    ):
        await deliver(pw.world.client, evt, pw.world.settings.webhook_secret)
    await process_all(pw.database)


def reversed_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = [e for e in events if e["type"] == "transfer.reversed"]
    assert len(found) == 1, [e["type"] for e in events]
    return found


class TestPayoutOfMatchedMoney:
    @pytest.mark.parametrize("plan", list(PLANS))
    async def test_a_larger_cumulative_reversal_books_only_the_difference(
        self, pw: PayoutWorld, plan: str
    ) -> None:
        program_id = await make_program(pw.world)
        await connect_account(pw)
        payment = await give(pw.world, amount_minor=1_000)
        match = await only_match(pw.database, payment)
        approved = await pw.world.client.post(
            f"/api/v1/admin/matches/{match.id}/approve", json={}, headers=pw.world.reviewer.headers
        )
        assert approved.status_code == 200, approved.text
        await run_outbox(pw, now=later())
        await relay(pw)
        assert (await only_match(pw.database, payment)).status is MatchStatus.PAID

        # Two refunds (300, then 400 more): two reversals of the one transfer, whose events
        # say 300 and then 700 reversed in all. They are held back to be delivered per plan.
        await refund_to(pw, payment, refund_minor=300, total=300)
        await run_outbox(pw, now=later())
        (first,) = reversed_events(pw.sandbox.fresh_events())
        await refund_to(pw, payment, refund_minor=400, total=700)
        await run_outbox(pw, now=later())
        (second,) = reversed_events(pw.sandbox.fresh_events())
        assert (first["data"]["object"]["amount_reversed"], second["data"]["object"]["amount_reversed"]) == (
            300,
            700,
        )

        prefix = f"match:{match.id}:"
        seen = 0
        for index in PLANS[plan]:
            await deliver_signed(pw, (first, second)[index])
            await process_all(pw.database)
            # At every step the books hold what the newest event says Stripe reversed in all.
            seen = max(seen, (300, 700)[index])
            assert await sum_of_code(pw.database, payout_bookkeeping.Code.REVERSED, key_prefix=prefix) == seen
            assert (await program_row(pw.database, program_id)).recovered_minor == seen
        # A replay Stripe makes with a new event id (the same transfer state, e.g. a resend).
        await deliver_signed(pw, stripe_events.event("transfer.reversed", first["data"]["object"]))
        await process_all(pw.database)

        assert await sum_of_code(pw.database, payout_bookkeeping.Code.REVERSED, key_prefix=prefix) == 700
        assert await sum_of_code(pw.database, payout_bookkeeping.Code.RECEIVABLE, key_prefix=prefix) == 0
        assert (
            await account_balance(pw.database, payout_bookkeeping.transferred_account(match.nonprofit_id))
            == 300
        )
        rows = await reversals(pw.database)
        assert sorted((r.status, r.amount_minor) for r in rows) == [
            (ReversalStatus.REVERSED, 300),
            (ReversalStatus.REVERSED, 400),
        ]
        after = await only_match(pw.database, payment)
        assert (after.status, after.recovered_minor) == (MatchStatus.PAID, 700)
        program = await program_row(pw.database, program_id)
        assert (program.recovered_minor, program.available_minor) == (700, 99_700)
        assert await check_ledger(pw.database) == []


@pytest.fixture
async def campaign(client: httpx.AsyncClient, database: Database) -> LiveCampaign:
    return await create_live_campaign(client, database)


class TestDestinationChargeTransfer:
    @pytest.mark.parametrize("plan", list(PLANS))
    @pytest.mark.parametrize("together", [False, True], ids=["processed_each", "one_batch"])
    async def test_a_larger_cumulative_reversal_books_only_the_difference(
        self,
        client: httpx.AsyncClient,
        database: Database,
        settings: Settings,
        campaign: LiveCampaign,
        plan: str,
        together: bool,
    ) -> None:
        # A destination charge: its transfer goes to the account the donation named at checkout.
        destination = f"acct_{uuid.uuid4().hex[:16]}"
        payment = await insert_donation(
            database, campaign, amount_minor=3_000, destination_account_id=destination
        )
        for evt in (
            stripe_events.event("checkout.session.completed", payment.checkout_session()),
            stripe_events.event("charge.succeeded", payment.charge()),
        ):
            await deliver(client, evt, settings.webhook_secret)
        transfer_id = stripe_events.new_id("tr")
        await deliver(
            client,
            stripe_events.event(
                "transfer.created", payment.transfer(transfer_id=transfer_id, destination=destination)
            ),
            settings.webhook_secret,
        )
        await process_all(database)
        events = [
            stripe_events.event(
                "transfer.reversed",
                payment.transfer(transfer_id=transfer_id, destination=destination, amount_reversed=amount),
            )
            for amount in (300, 700)
        ]

        prefix = f"transfer:{transfer_id}:"
        seen = 0
        for index in PLANS[plan]:
            await deliver(client, events[index], settings.webhook_secret)
            if not together:
                await process_all(database)
                seen = max(seen, (300, 700)[index])
                booked = await sum_of_code(database, bookkeeping.Code.TRANSFER_REVERSED, key_prefix=prefix)
                assert booked == seen
        replay = payment.transfer(transfer_id=transfer_id, destination=destination, amount_reversed=300)
        await deliver(client, stripe_events.event("transfer.updated", replay), settings.webhook_secret)
        await process_all(database)

        assert await sum_of_code(database, bookkeeping.Code.TRANSFER_REVERSED, key_prefix=prefix) == 700
        assert await account_balance(database, bookkeeping.nonprofit_account(campaign.nonprofit_id)) == 2_300
        assert await account_balance(database, bookkeeping.campaign_account(campaign.id)) == 700
        assert await check_ledger(database) == []
