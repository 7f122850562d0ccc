"""The ledger's balance flags: a flagged account is never taken past its limit, whatever posts to it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from service.db import Database
from service.ledger import (
    BalanceLimit,
    LedgerAccount,
    LedgerLimitExceeded,
    LedgerTransfer,
    LimitedBalance,
    Posting,
    TransferKind,
    defer_postings,
    limited_balance,
    open_limited_account,
    post,
    transfer_id_for,
)
from tests import databases

FUNDER = "funder:test"
TAKER = "taker:test"


@dataclass
class Pool:
    code: str = field(default_factory=lambda: f"pool:{uuid.uuid4()}")
    currency: str = "eur"

    def posting(
        self, key: str, amount_minor: int, *, kind: TransferKind = TransferKind.PENDING, to_pool: bool = False
    ) -> Posting:
        phase_two = kind in (TransferKind.POST_PENDING, TransferKind.VOID_PENDING)
        return Posting(
            idempotency_key=f"{self.code}:{key}",
            debit=TAKER if to_pool else self.code,
            credit=self.code if to_pool else TAKER,
            amount_minor=amount_minor,
            currency=self.currency,
            code="test",
            kind=kind,
            # Phase two of "r1" is "r1:void" or "r1:post", naming r1's transfer.
            pending_id=transfer_id_for(f"{self.code}:{key.rsplit(':', 1)[0]}") if phase_two else None,
        )


async def open_pool(database: Database, budget_minor: int) -> Pool:
    pool = Pool()
    async with database.transaction() as uow:
        await open_limited_account(
            uow, code=pool.code, currency=pool.currency, limit=BalanceLimit.DEBITS_MUST_NOT_EXCEED_CREDITS
        )
        await post(
            uow,
            Posting(
                idempotency_key=f"{pool.code}:funded",
                debit=FUNDER,
                credit=pool.code,
                amount_minor=budget_minor,
                currency=pool.currency,
                code="test",
            ),
        )
    return pool


async def balance_of(database: Database, pool: Pool) -> LimitedBalance:
    async with database.transaction() as uow:
        found = await limited_balance(uow, code=pool.code, currency=pool.currency)
    assert found is not None
    return found


async def transfer_keys(database: Database, pool: Pool) -> set[str]:
    async with database.transaction() as uow:
        keys = await uow.scalars(
            sa.select(LedgerTransfer.idempotency_key).where(
                LedgerTransfer.idempotency_key.startswith(pool.code)
            )
        )
        return set(keys)


class TestRefusal:
    async def test_a_posting_past_the_limit_is_refused_and_writes_nothing(self, database: Database) -> None:
        pool = await open_pool(database, 1_000)
        async with database.transaction() as uow:
            await post(uow, pool.posting("a", 600))
        before = await balance_of(database, pool)

        with pytest.raises(LedgerLimitExceeded):
            async with database.transaction() as uow:
                await post(uow, pool.posting("b", 401))

        assert await balance_of(database, pool) == before
        assert await transfer_keys(database, pool) == {f"{pool.code}:funded", f"{pool.code}:a"}

    async def test_a_refused_posting_leaves_its_transaction_usable(self, database: Database) -> None:
        pool = await open_pool(database, 1_000)
        async with database.transaction() as uow:
            await post(uow, pool.posting("a", 600))
            with pytest.raises(LedgerLimitExceeded):
                await post(uow, pool.posting("b", 401))
            await post(uow, pool.posting("c", 400))

        assert (await balance_of(database, pool)).available_minor == 0
        assert await transfer_keys(database, pool) == {f"{pool.code}:{k}" for k in ("funded", "a", "c")}

    async def test_exactly_the_limit_is_allowed(self, database: Database) -> None:
        pool = await open_pool(database, 1_000)
        async with database.transaction() as uow:
            await post(uow, pool.posting("a", 1_000, kind=TransferKind.POSTED))

        assert await balance_of(database, pool) == LimitedBalance(
            BalanceLimit.DEBITS_MUST_NOT_EXCEED_CREDITS, 0, 1_000, 0, 1_000
        )

    async def test_a_replay_of_an_accepted_posting_on_a_full_account_changes_nothing(
        self, database: Database
    ) -> None:
        pool = await open_pool(database, 1_000)
        async with database.transaction() as uow:
            assert await post(uow, pool.posting("a", 1_000)) is not None
        async with database.transaction() as uow:
            assert await post(uow, pool.posting("a", 1_000)) is None

        assert await balance_of(database, pool) == LimitedBalance(
            BalanceLimit.DEBITS_MUST_NOT_EXCEED_CREDITS, 1_000, 0, 0, 1_000
        )

    async def test_a_replay_with_room_left_changes_nothing(self, database: Database) -> None:
        pool = await open_pool(database, 1_000)
        async with database.transaction() as uow:
            await post(uow, pool.posting("a", 300))
        async with database.transaction() as uow:
            assert await post(uow, pool.posting("a", 300)) is None

        assert (await balance_of(database, pool)).debits_pending_minor == 300

    async def test_void_and_post_settle_the_pending_amount(self, database: Database) -> None:
        pool = await open_pool(database, 1_000)
        async with database.transaction() as uow:
            await post(uow, pool.posting("a", 300))
            await post(uow, pool.posting("b", 200))
            await post(uow, pool.posting("a:void", 300, kind=TransferKind.VOID_PENDING))
            await post(uow, pool.posting("b:post", 200, kind=TransferKind.POST_PENDING))
            await post(uow, pool.posting("back", 50, kind=TransferKind.POSTED, to_pool=True))

        assert await balance_of(database, pool) == LimitedBalance(
            BalanceLimit.DEBITS_MUST_NOT_EXCEED_CREDITS, 0, 200, 0, 1_050
        )

    async def test_unflagged_accounts_keep_no_balance_row_and_may_go_negative(
        self, database: Database
    ) -> None:
        await open_pool(database, 1_000)
        async with database.transaction() as uow:
            assert await limited_balance(uow, code=FUNDER, currency="eur") is None


class TestDeferredPostings:
    async def test_a_deferred_batch_is_checked_when_it_posts_to_a_flagged_account(
        self, database: Database
    ) -> None:
        pool = await open_pool(database, 1_000)
        queued = Posting(
            idempotency_key=f"{pool.code}:unflagged",
            debit=FUNDER,
            credit=TAKER,
            amount_minor=5,
            currency="eur",
            code="t",
        )
        async with database.transaction() as uow:
            defer_postings(uow)
            await post(uow, queued)
            await post(uow, pool.posting("a", 900))
            with pytest.raises(LedgerLimitExceeded):
                await post(uow, pool.posting("b", 101))
            # A phase two names a pending transfer posted earlier in the same batch.
            await post(uow, pool.posting("a:void", 900, kind=TransferKind.VOID_PENDING))

        assert await transfer_keys(database, pool) == {
            f"{pool.code}:{k}" for k in ("funded", "unflagged", "a", "a:void")
        }
        assert (await balance_of(database, pool)).available_minor == 1_000


OPS = st.lists(
    st.tuples(st.sampled_from(["reserve", "release", "pay", "claw_back", "return"]), st.integers(1, 700)),
    min_size=1,
    max_size=25,
)


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
class TestProperties:
    @hypothesis_settings(
        max_examples=30,
        deadline=None,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(budget=st.integers(1, 3_000), ops=OPS)
    async def test_the_flagged_balance_is_the_sum_of_transfers_and_never_below_its_limit(
        self, database: Database, budget: int, ops: list[tuple[str, int]]
    ) -> None:
        pool = await open_pool(database, budget)
        model = _Model(credits_posted=budget)
        async with database.transaction() as uow:
            for number, (op, amount) in enumerate(ops):
                posting = model.posting(pool, number, op, amount)
                if posting is None:
                    continue
                fits = model.fits(posting)
                try:
                    await post(uow, posting)
                except LedgerLimitExceeded:
                    assert not fits, (op, amount, model)
                    continue
                assert fits, (op, amount, model)
                model.apply(posting)
            found = await limited_balance(uow, code=pool.code, currency=pool.currency)
            from_transfers = await _sums(uow, pool)

        assert found is not None
        assert (
            found.debits_pending_minor,
            found.debits_posted_minor,
            found.credits_pending_minor,
            found.credits_posted_minor,
        ) == from_transfers
        assert found.available_minor >= 0
        assert found.available_minor == model.credits_posted - model.pending_total() - model.debits_posted


@dataclass
class _Model:
    """What the ledger must do, computed the slow way: open reservations and the sums."""

    credits_posted: int
    debits_posted: int = 0
    open: dict[str, int] = field(default_factory=dict)
    paid: int = 0

    def pending_total(self) -> int:
        return sum(self.open.values())

    def posting(self, pool: Pool, number: int, op: str, amount: int) -> Posting | None:
        if op == "reserve":
            return pool.posting(f"r{number}", amount)
        if op in ("release", "pay"):
            if not self.open:
                return None
            key = sorted(self.open)[amount % len(self.open)]
            kind = TransferKind.VOID_PENDING if op == "release" else TransferKind.POST_PENDING
            return pool.posting(f"{key}:{op}", self.open[key], kind=kind)
        if op == "claw_back":
            if self.paid == 0:
                return None
            return pool.posting(f"c{number}", min(amount, self.paid), kind=TransferKind.POSTED, to_pool=True)
        return pool.posting(f"x{number}", amount, kind=TransferKind.POSTED)

    def fits(self, posting: Posting) -> bool:
        more = posting.amount_minor if posting.kind in (TransferKind.PENDING, TransferKind.POSTED) else 0
        if posting.credit.startswith("pool:"):
            more = 0
        return self.pending_total() + self.debits_posted + more <= self.credits_posted

    def apply(self, posting: Posting) -> None:
        short = posting.idempotency_key.split(":", 2)[2]
        if posting.kind is TransferKind.PENDING:
            self.open[short] = posting.amount_minor
        elif posting.kind is TransferKind.VOID_PENDING:
            del self.open[short.rsplit(":", 1)[0]]
        elif posting.kind is TransferKind.POST_PENDING:
            del self.open[short.rsplit(":", 1)[0]]
            self.debits_posted += posting.amount_minor
            self.paid += posting.amount_minor
        elif posting.credit.startswith("pool:"):
            self.credits_posted += posting.amount_minor
            self.paid -= posting.amount_minor
        else:
            self.debits_posted += posting.amount_minor


async def _sums(uow: AsyncSession, pool: Pool) -> tuple[int, int, int, int]:
    """Debits pending (open), debits posted, credits pending, credits posted, from the transfers."""
    rows = (
        await uow.execute(
            sa.select(
                LedgerTransfer.id,
                LedgerTransfer.kind,
                LedgerTransfer.amount_minor,
                LedgerTransfer.pending_id,
                LedgerTransfer.credit_account_id,
                LedgerTransfer.debit_account_id,
            ).where(LedgerTransfer.idempotency_key.startswith(pool.code + ":"))
        )
    ).all()
    settled = {r.pending_id for r in rows if r.pending_id is not None}
    pool_id = await uow.scalar(sa.select(LedgerAccount.id).where(LedgerAccount.code == pool.code))
    sums = [0, 0, 0, 0]
    for r in rows:
        for side, account in ((0, r.debit_account_id), (2, r.credit_account_id)):
            if account != pool_id:
                continue
            if r.kind is TransferKind.PENDING and r.id not in settled:
                sums[side] += r.amount_minor
            elif r.kind in (TransferKind.POSTED, TransferKind.POST_PENDING):
                sums[side + 1] += r.amount_minor
    return sums[0], sums[1], sums[2], sums[3]


WORKERS = 40


@pytest.fixture
async def wide_database(db_url: str) -> AsyncIterator[Database]:
    """Enough connections for every worker to hold its own transaction at once."""
    async with databases.wide_database(db_url, connections=WORKERS) as database:
        yield database


class TestConcurrency:
    @pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
    async def test_concurrent_reservations_never_overdraw(
        self, database: Database, wide_database: Database
    ) -> None:
        pool = await open_pool(database, 1_000)
        start = asyncio.Event()
        refused = 0

        async def reserve(number: int) -> None:
            nonlocal refused
            await start.wait()
            try:
                async with wide_database.transaction() as uow:
                    await post(uow, pool.posting(f"r{number}", 75))
            except LedgerLimitExceeded:
                refused += 1

        workers = [asyncio.create_task(reserve(n)) for n in range(WORKERS)]
        await asyncio.sleep(0.05)  # every worker is waiting at the line
        start.set()
        await asyncio.gather(*workers)

        found = await balance_of(database, pool)
        assert found.debits_pending_minor == 13 * 75  # 975: a fourteenth would pass 1,000
        assert refused == WORKERS - 13
        assert len(await transfer_keys(database, pool)) == 1 + 13
