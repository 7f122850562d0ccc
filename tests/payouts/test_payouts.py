"""Payouts of matched money through Stripe Transfers, driven as production drives them: the
outbox against the sandbox with the real SDK, and the sandbox's events relayed as signed webhooks."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from campaigns.matching.models import Match, MatchStatus
from campaigns.nonprofits.models import Nonprofit
from campaigns.payouts import finance
from campaigns.payouts.models import Payout, PayoutReversal, PayoutStatus, ReversalKind, ReversalStatus
from service import ledger
from service.auth.models import AdminRole
from service.db import Database, utcnow
from service.settings import Settings
from tests.builders import insert_admin
from tests.campaigns.matching.helpers import give, make_program, only_match, program_row, refund
from tests.payouts.helpers import (
    PayoutWorld,
    Sandbox,
    connect_account,
    make_payout_world,
    payouts,
    relay,
    reversals,
    run_outbox,
)
from tests.webhooks import stripe_events
from tests.webhooks.builders import deliver, process_all
from webhooks.commands import check_ledger

AFTER_HOLD = 8  # days: programs hold matches for 7


def later(days: int = AFTER_HOLD) -> datetime:
    return utcnow() + timedelta(days=days)


async def approved_match(
    pw: PayoutWorld, *, amount_minor: int = 2_000
) -> tuple[stripe_events.Payment, uuid.UUID]:
    payment = await give(pw.world, amount_minor=amount_minor)
    match = await only_match(pw.database, payment)
    response = await pw.world.client.post(
        f"/api/v1/admin/matches/{match.id}/approve", json={}, headers=pw.world.reviewer.headers
    )
    assert response.status_code == 200, response.text
    return payment, match.id


async def paid_match(
    pw: PayoutWorld, *, amount_minor: int = 2_000
) -> tuple[stripe_events.Payment, uuid.UUID]:
    payment, match_id = await approved_match(pw, amount_minor=amount_minor)
    await run_outbox(pw, now=later())
    await relay(pw)
    match = await only_match(pw.database, payment)
    assert match.status is MatchStatus.PAID
    return payment, match_id


async def summary(database: Database) -> finance.ProgramFinance:
    async with database.transaction() as session:
        (figures,) = await finance.finance_summary(session)
    return figures


async def keys_with_prefix(database: Database, prefix: str) -> dict[str, int]:
    async with database.transaction() as session:
        rows = await session.execute(
            sa.select(ledger.LedgerTransfer.idempotency_key, ledger.LedgerTransfer.amount_minor).where(
                ledger.LedgerTransfer.idempotency_key.startswith(prefix)
            )
        )
        return {key: amount for key, amount in rows}


class TestPayout:
    async def test_approved_match_is_transferred_and_paid_once_its_webhook_confirms(
        self, pw: PayoutWorld
    ) -> None:
        program_id = await make_program(pw.world)
        account_id = await connect_account(pw)
        payment, match_id = await approved_match(pw)

        await run_outbox(pw, now=later())

        (payout,) = await payouts(pw.database)
        assert payout.status is PayoutStatus.SENT and payout.stripe_transfer_id is not None
        assert (await only_match(pw.database, payment)).status is MatchStatus.APPROVED  # no webhook yet
        transfer = await pw.sandbox.client.v1.transfers.retrieve_async(payout.stripe_transfer_id)
        assert (transfer.amount, transfer.currency, transfer.destination) == (2_000, "eur", account_id)
        assert transfer.transfer_group == f"donation:{payment.donation_id}"
        assert transfer.metadata is not None and transfer.metadata["match_id"] == str(match_id)
        assert transfer.source_transaction is None
        assert f"match:{match_id}:transfer" in pw.sandbox.idempotency_keys()

        await relay(pw, copies=3)

        match = await only_match(pw.database, payment)
        assert (match.status, match.paid_at is not None) == (MatchStatus.PAID, True)
        (payout,) = await payouts(pw.database)
        assert payout.status is PayoutStatus.PAID
        program = await program_row(pw.database, program_id)
        assert (program.paid_minor, program.reserved_minor) == (2_000, 0)
        assert await keys_with_prefix(pw.database, f"match:{match_id}:transfer") == {
            f"match:{match_id}:transfer": 2_000
        }
        figures = await summary(pw.database)
        assert (figures.paid_minor, figures.reserved_minor, figures.available_minor) == (2_000, 0, 98_000)
        assert await check_ledger(pw.database) == []

    async def test_the_outbox_running_again_sends_nothing_more(self, pw: PayoutWorld) -> None:
        await make_program(pw.world)
        await connect_account(pw)
        await approved_match(pw)

        await run_outbox(pw, now=later())
        await run_outbox(pw, now=later(days=30))
        await relay(pw)
        await run_outbox(pw, now=later(days=60))

        created = [e for e in pw.sandbox.state.events if e["type"] == "transfer.created"]
        assert len(created) == 1
        assert await check_ledger(pw.database) == []

    async def test_nothing_is_paid_before_the_hold_ends(self, pw: PayoutWorld) -> None:
        await make_program(pw.world)
        await connect_account(pw)
        await approved_match(pw)

        await run_outbox(pw, now=utcnow())

        assert await payouts(pw.database) == []

    async def test_a_transfer_stripe_refuses_is_a_visible_failure_and_moves_nothing(
        self, pw: PayoutWorld
    ) -> None:
        program_id = await make_program(pw.world)
        # An account Stripe will not transfer to (its transfers capability is not active).
        account = await pw.sandbox.client.v1.accounts.create_async({"type": "express", "country": "IE"})
        async with pw.database.transaction() as session:
            await session.execute(
                sa.update(Nonprofit)
                .where(Nonprofit.id == uuid.UUID(pw.org.id))
                .values(stripe_account_id=account.id, payouts_enabled=True)
            )
        payment, match_id = await approved_match(pw)

        await run_outbox(pw, now=later())
        await run_outbox(pw, now=later(days=30))

        (payout,) = await payouts(pw.database)
        assert (payout.status, payout.attempts) == (PayoutStatus.FAILED, 1)
        assert payout.last_error is not None and "capabilities" in payout.last_error
        assert (await only_match(pw.database, payment)).status is MatchStatus.APPROVED
        assert (await program_row(pw.database, program_id)).paid_minor == 0
        listed = await pw.world.client.get(
            "/api/v1/admin/payouts", params={"status": "failed"}, headers=pw.world.finance.headers
        )
        assert [p["match_id"] for p in listed.json()["data"]] == [str(match_id)]
        assert await check_ledger(pw.database) == []

    async def test_two_workers_at_once_send_one_transfer(self, pw: PayoutWorld) -> None:
        await make_program(pw.world)
        await connect_account(pw)
        await approved_match(pw)
        at = later()

        await asyncio.gather(run_outbox(pw, now=at), run_outbox(pw, now=at))

        (payout,) = await payouts(pw.database)
        assert (payout.status, payout.attempts) == (PayoutStatus.SENT, 1)
        assert len([e for e in pw.sandbox.state.events if e["type"] == "transfer.created"]) == 1


class TestLedgerCheck:
    async def test_a_payout_row_disagreeing_with_the_ledger_is_reported(self, pw: PayoutWorld) -> None:
        await make_program(pw.world)
        await connect_account(pw)
        _, match_id = await paid_match(pw)
        assert await check_ledger(pw.database) == []

        async with pw.database.transaction() as session:
            await session.execute(
                sa.update(Payout).where(Payout.match_id == match_id).values(amount_minor=2_500)
            )

        problems = await check_ledger(pw.database)
        assert any("transfer posted 2000, row says 2500" in p for p in problems), problems

    async def test_an_unsettled_receivable_in_the_rows_only_is_reported(self, pw: PayoutWorld) -> None:
        await make_program(pw.world)
        account_id = await connect_account(pw)
        payment, _ = await paid_match(pw)
        await pw.sandbox.control(f"accounts/{account_id}/fail_reversals", {"count": 1})
        await refund(pw.world, payment, amount_minor=2_000)
        await run_outbox(pw, now=later())
        assert await check_ledger(pw.database) == []

        async with pw.database.transaction() as session:
            await session.execute(sa.update(PayoutReversal).values(open_receivable_minor=1_000))

        problems = await check_ledger(pw.database)
        assert any("receivable 2000 in the ledger != 1000" in p for p in problems), problems


class TestPayable:
    async def test_nonprofit_without_an_account_accrues_a_payable_paid_once_the_account_is_ready(
        self, pw: PayoutWorld
    ) -> None:
        program_id = await make_program(pw.world)
        payment, _match_id = await approved_match(pw)

        await run_outbox(pw, now=later())

        (payout,) = await payouts(pw.database)
        assert payout.status is PayoutStatus.PAYABLE
        assert [e for e in pw.sandbox.state.events if e["type"] == "transfer.created"] == []
        figures = await summary(pw.database)
        assert (figures.payable_minor, figures.reserved_minor, figures.paid_minor) == (2_000, 0, 0)
        assert await check_ledger(pw.database) == []

        await connect_account(pw)
        await run_outbox(pw, now=later())
        await relay(pw)

        (payout,) = await payouts(pw.database)
        assert payout.status is PayoutStatus.PAID
        assert (await only_match(pw.database, payment)).status is MatchStatus.PAID
        figures = await summary(pw.database)
        assert (figures.payable_minor, figures.paid_minor) == (0, 2_000)
        assert (await program_row(pw.database, program_id)).paid_minor == 2_000
        assert await check_ledger(pw.database) == []

    async def test_a_payable_whose_match_is_voided_is_owed_no_more(self, pw: PayoutWorld) -> None:
        program_id = await make_program(pw.world)
        payment, _ = await approved_match(pw)
        await run_outbox(pw, now=later())
        assert [p.status for p in await payouts(pw.database)] == [PayoutStatus.PAYABLE]

        await refund(pw.world, payment, amount_minor=2_000)
        await connect_account(pw)
        await run_outbox(pw, now=later())

        assert await payouts(pw.database) == []
        assert [e for e in pw.sandbox.state.events if e["type"] == "transfer.created"] == []
        assert (await summary(pw.database)).payable_minor == 0
        assert (await program_row(pw.database, program_id)).available_minor == 100_000
        assert await check_ledger(pw.database) == []


class TestRefundAfterPayout:
    @pytest.mark.parametrize(("copies", "reverse"), [(1, False), (2, True), (3, True)])
    async def test_a_refund_reverses_the_transfer_exactly_once(
        self, pw: PayoutWorld, copies: int, reverse: bool
    ) -> None:
        program_id = await make_program(pw.world)
        await connect_account(pw)
        payment, match_id = await paid_match(pw)
        refund_id = stripe_events.new_id("re")
        made = payment.refund(refund_id=refund_id, amount_minor=2_000)
        events = [
            stripe_events.event("refund.created", made),
            stripe_events.event("charge.refunded", payment.charge(amount_refunded=2_000)),
        ]

        for _ in range(copies):
            for evt in reversed(events) if reverse else events:
                await deliver(pw.world.client, evt, pw.world.settings.webhook_secret)
        await process_all(pw.database)

        (reversal,) = await reversals(pw.database)
        assert (reversal.kind, reversal.status, reversal.amount_minor) == (
            ReversalKind.CLAWBACK,
            ReversalStatus.QUEUED,
            2_000,
        )
        # The pool gets the money back when the reversal settles, not before.
        assert (await program_row(pw.database, program_id)).recovered_minor == 0
        assert await check_ledger(pw.database) == []

        await run_outbox(pw, now=later())
        await run_outbox(pw, now=later(days=9))
        await relay(pw, copies=copies, reverse=reverse)

        (reversal,) = await reversals(pw.database)
        assert reversal.status is ReversalStatus.REVERSED and reversal.stripe_reversal_id is not None
        assert reversal.idempotency_key == f"match:{match_id}:reversal:{refund_id}"
        assert reversal.idempotency_key in pw.sandbox.idempotency_keys()
        (payout,) = await payouts(pw.database)
        assert payout.stripe_transfer_id is not None
        transfer = await pw.sandbox.client.v1.transfers.retrieve_async(payout.stripe_transfer_id)
        assert (transfer.amount_reversed, len(transfer.reversals.data)) == (2_000, 1)
        match = await only_match(pw.database, payment)
        assert (match.status, match.recovered_minor) == (MatchStatus.PAID, 2_000)
        program = await program_row(pw.database, program_id)
        assert (program.recovered_minor, program.available_minor) == (2_000, 100_000)
        figures = await summary(pw.database)
        assert (figures.clawed_back_minor, figures.receivable_minor) == (2_000, 0)
        assert await check_ledger(pw.database) == []

    async def test_a_partial_refund_reverses_in_proportion(self, pw: PayoutWorld) -> None:
        await make_program(pw.world, policy={"policy": "fixed_ratio", "ratio_bps": 15_000})
        await connect_account(pw)
        payment, _match_id = await paid_match(pw, amount_minor=2_000)

        await refund(pw.world, payment, amount_minor=500)
        await run_outbox(pw, now=later())
        await relay(pw)

        (reversal,) = await reversals(pw.database)
        assert (reversal.status, reversal.amount_minor) == (ReversalStatus.REVERSED, 750)
        match = await only_match(pw.database, payment)
        assert (match.amount_minor, match.recovered_minor) == (3_000, 750)
        assert await check_ledger(pw.database) == []

    async def test_a_dispute_reverses_the_transfer_named_after_the_dispute(self, pw: PayoutWorld) -> None:
        await make_program(pw.world)
        await connect_account(pw)
        payment, match_id = await paid_match(pw)
        dispute_id = stripe_events.new_id("dp")

        await deliver(
            pw.world.client,
            stripe_events.event("charge.dispute.created", payment.dispute(dispute_id=dispute_id)),
            pw.world.settings.webhook_secret,
        )
        await process_all(pw.database)
        await run_outbox(pw, now=later())
        await relay(pw)

        (reversal,) = await reversals(pw.database)
        assert reversal.idempotency_key == f"match:{match_id}:reversal:{dispute_id}"
        assert (reversal.status, reversal.amount_minor) == (ReversalStatus.REVERSED, 2_000)
        assert await check_ledger(pw.database) == []


class TestReceivable:
    async def test_a_refused_reversal_becomes_a_receivable_netted_against_the_next_payout(
        self, pw: PayoutWorld
    ) -> None:
        program_id = await make_program(pw.world)
        account_id = await connect_account(pw)
        first, _first_match = await paid_match(pw, amount_minor=2_000)
        await pw.sandbox.control(f"accounts/{account_id}/fail_reversals", {"count": 1})

        await refund(pw.world, first, amount_minor=2_000)
        await run_outbox(pw, now=later())

        (reversal,) = await reversals(pw.database)
        assert (reversal.status, reversal.receivable_minor, reversal.open_receivable_minor) == (
            ReversalStatus.RECEIVABLE,
            2_000,
            2_000,
        )
        assert reversal.last_error is not None and "Insufficient funds" in reversal.last_error
        program = await program_row(pw.database, program_id)
        assert (program.recovered_minor, program.available_minor) == (2_000, 100_000)
        assert (await summary(pw.database)).receivable_minor == 2_000
        assert await check_ledger(pw.database) == []

        second, second_match = await approved_match(pw, amount_minor=3_000)
        await run_outbox(pw, now=later())

        new_payout = next(p for p in await payouts(pw.database) if p.match_id == second_match)
        assert (new_payout.amount_minor, new_payout.netted_minor, new_payout.transfer_minor) == (
            3_000,
            2_000,
            1_000,
        )
        assert new_payout.stripe_transfer_id is not None
        transfer = await pw.sandbox.client.v1.transfers.retrieve_async(new_payout.stripe_transfer_id)
        assert transfer.amount == 1_000
        await relay(pw)

        assert (await only_match(pw.database, second)).status is MatchStatus.PAID
        (reversal,) = await reversals(pw.database)
        assert reversal.open_receivable_minor == 0
        netted = await keys_with_prefix(pw.database, f"payout:{new_payout.id}:netted:")
        assert netted == {f"payout:{new_payout.id}:netted:{reversal.id}": 2_000}
        figures = await summary(pw.database)
        assert (figures.receivable_minor, figures.paid_minor, figures.clawed_back_minor) == (0, 5_000, 2_000)
        assert await check_ledger(pw.database) == []


class TestInFlight:
    async def test_a_match_voided_while_its_transfer_is_in_flight_is_reversed_in_full(
        self, pw: PayoutWorld
    ) -> None:
        program_id = await make_program(pw.world)
        await connect_account(pw)
        payment, _match_id = await approved_match(pw)
        await run_outbox(pw, now=later())  # the transfer is made; its webhook not yet seen

        await refund(pw.world, payment, amount_minor=2_000)  # voids the (approved) match
        await relay(pw)  # transfer.created arrives for a voided match
        await run_outbox(pw, now=later())
        await relay(pw)

        match = await only_match(pw.database, payment)
        assert match.status is MatchStatus.VOIDED
        (reversal,) = await reversals(pw.database)
        assert (reversal.kind, reversal.status, reversal.amount_minor) == (
            ReversalKind.OVERPAYMENT,
            ReversalStatus.REVERSED,
            2_000,
        )
        program = await program_row(pw.database, program_id)
        assert (program.paid_minor, program.recovered_minor, program.available_minor) == (0, 0, 100_000)
        assert await check_ledger(pw.database) == []

    async def test_a_match_rejected_after_its_transfer_went_out_cannot_be_appealed(
        self, pw: PayoutWorld
    ) -> None:
        await make_program(pw.world)
        await connect_account(pw)
        payment, match_id = await approved_match(pw)
        await run_outbox(pw, now=later())  # the transfer is made; its webhook not yet seen
        rejected = await pw.world.client.post(
            f"/api/v1/admin/matches/{match_id}/reject",
            json={"note": "a ring"},
            headers=pw.world.reviewer.headers,
        )
        assert rejected.status_code == 200, rejected.text
        await relay(pw)
        await run_outbox(pw, now=later())
        await relay(pw)

        appealed = await pw.world.client.post(
            f"/api/v1/matches/{match_id}/appeal",
            json={"message": "Please look again at it."},
            headers=pw.org.headers,
        )

        assert (appealed.status_code, appealed.json()["error"]) == (409, "appeal_not_allowed")
        assert (await only_match(pw.database, payment)).status is MatchStatus.VOIDED
        assert await check_ledger(pw.database) == []

    async def test_a_match_back_in_review_while_in_flight_is_paid_once_approved(
        self, pw: PayoutWorld
    ) -> None:
        program_id = await make_program(pw.world)
        await connect_account(pw)
        payment, match_id = await approved_match(pw)
        await run_outbox(pw, now=later())
        # New risk facts sent the approved match back to people while its transfer was in flight
        # (what the engine's risk refresh does), as a row change: the payout side is under test.
        async with pw.database.transaction() as session:
            await session.execute(
                sa.update(Match).where(Match.id == match_id).values(status=MatchStatus.HELD_FOR_REVIEW)
            )

        await relay(pw)
        await run_outbox(pw, now=later())

        (payout,) = await payouts(pw.database)
        assert payout.status is PayoutStatus.TRANSFERRED
        assert (await only_match(pw.database, payment)).status is MatchStatus.HELD_FOR_REVIEW
        assert await check_ledger(pw.database) == []

        second_reviewer = await insert_admin(pw.database, role=AdminRole.REVIEWER)
        approved = await pw.world.client.post(
            f"/api/v1/admin/matches/{match_id}/approve", json={}, headers=second_reviewer.headers
        )
        assert approved.status_code == 200, approved.text
        await run_outbox(pw, now=later())

        (payout,) = await payouts(pw.database)
        assert payout.status is PayoutStatus.PAID
        assert (await only_match(pw.database, payment)).status is MatchStatus.PAID
        assert (await program_row(pw.database, program_id)).paid_minor == 2_000
        assert await reversals(pw.database) == []
        assert len([e for e in pw.sandbox.state.events if e["type"] == "transfer.created"]) == 1
        assert await check_ledger(pw.database) == []


class TestApi:
    async def test_finance_view_is_for_finance_admins(self, pw: PayoutWorld) -> None:
        await make_program(pw.world)
        await connect_account(pw)
        await paid_match(pw)

        denied = await pw.world.client.get("/api/v1/admin/finance", headers=pw.world.reviewer.headers)
        allowed = await pw.world.client.get("/api/v1/admin/finance", headers=pw.world.finance.headers)

        assert denied.status_code == 403
        assert allowed.status_code == 200, allowed.text
        (program,) = allowed.json()["programs"]
        assert (program["budget_minor"], program["paid_minor"], program["available_minor"]) == (
            100_000,
            2_000,
            98_000,
        )

    async def test_admins_list_every_payout_and_nonprofits_only_their_own(
        self,
        pw: PayoutWorld,
        client: httpx.AsyncClient,
        database: Database,
        settings: Settings,
        sandbox: Sandbox,
    ) -> None:
        await make_program(pw.world)
        await connect_account(pw)
        _, match_id = await paid_match(pw)
        other = await make_payout_world(client, database, settings, sandbox)

        admin = await client.get("/api/v1/admin/payouts", headers=pw.world.finance.headers)
        own = await client.get("/api/v1/payouts", headers=pw.org.headers)
        theirs = await client.get("/api/v1/payouts", headers=other.org.headers)
        as_admin = await client.get("/api/v1/payouts", headers=pw.world.finance.headers)

        assert admin.status_code == 200, admin.text
        assert [p["match_id"] for p in admin.json()["data"]] == [str(match_id)]
        assert own.status_code == 200, own.text
        (payout,) = own.json()["data"]
        assert (payout["status"], payout["transfer_minor"], payout["currency"]) == ("paid", 2_000, "eur")
        assert theirs.json()["data"] == []
        assert as_admin.status_code == 401
