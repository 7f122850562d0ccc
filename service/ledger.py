"""Double-entry, append-only ledger (after TigerBeetle): accounts and transfers.

A transfer moves a positive amount from one account (debit) to another (credit) in one
currency. Its idempotency key is derived from the Stripe object or our own row, so posting
the same fact twice is a no-op enforced by a UNIQUE constraint, not by a read first.
Corrections are new transfers; the table refuses UPDATE and DELETE (trigger in the
migration). Two-phase transfers: a PENDING transfer reserves, a later POST_PENDING or
VOID_PENDING transfer (referring to it) settles or releases it. Balances are derived.

Balance limits (TigerBeetle's account flags): an account opened with `open_limited_account`
carries a `BalanceLimit` and a maintained row in `ledger_account_balances` (debits and
credits, pending and posted). `post` moves that row with a guarded UPDATE before it inserts
the transfer, in the same transaction; a posting that would take the account past its limit
raises `LedgerLimitExceeded` and writes nothing. Matching pools are flagged
`debits_must_not_exceed_credits`, so the ledger itself refuses to overspend a pool. Only
flagged accounts have a row, so hot accounts never queue on one; the row's lock is taken
under the program's lock (docs/architecture.md, "Lock order").
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, created_at_column, insert_for, str_enum, uuid_pk
from service.errors import DomainError
from service.unit_of_work import UnitOfWork


class TransferKind(StrEnum):
    POSTED = "posted"
    """A settled movement."""
    PENDING = "pending"
    """A reservation (phase one of a two-phase transfer)."""
    POST_PENDING = "post_pending"
    """Settles a pending transfer (phase two)."""
    VOID_PENDING = "void_pending"
    """Releases a pending transfer (phase two)."""


class LedgerAccount(Base):
    __tablename__ = "ledger_accounts"

    id: Mapped[uuid.UUID] = uuid_pk()
    # e.g. "stripe:balance", "nonprofit:<uuid>:donations"; one account per (code, currency).
    code: Mapped[str] = mapped_column(sa.String(120))
    currency: Mapped[str] = mapped_column(sa.String(3))
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        sa.CheckConstraint("currency = lower(currency)", name="currency_lowercase"),
        sa.UniqueConstraint("code", "currency", name="uq_ledger_accounts_code_currency"),
    )


class LedgerTransfer(Base):
    __tablename__ = "ledger_transfers"
    __table_args__ = (
        sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
        sa.CheckConstraint("debit_account_id <> credit_account_id", name="distinct_accounts"),
        sa.CheckConstraint(
            "(kind IN ('post_pending', 'void_pending')) = (pending_id IS NOT NULL)", name="phase_two_refers"
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    debit_account_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("ledger_accounts.id"), index=True)
    credit_account_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("ledger_accounts.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger())
    currency: Mapped[str] = mapped_column(sa.String(3))
    code: Mapped[str] = mapped_column(sa.String(64), index=True)
    kind: Mapped[TransferKind] = mapped_column(str_enum(TransferKind, "ledger_transfer_kind"))
    # Phase two of a two-phase transfer names its pending transfer; one settlement each.
    pending_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("ledger_transfers.id"), unique=True)
    donation_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid(), index=True)
    created_at: Mapped[datetime] = created_at_column()


class BalanceLimit(StrEnum):
    """An account's balance flag (TigerBeetle's `debits_must_not_exceed_credits` and its mirror)."""

    DEBITS_MUST_NOT_EXCEED_CREDITS = "debits_must_not_exceed_credits"
    """Pending and posted debits never exceed posted credits: a pool that may not go below zero."""
    CREDITS_MUST_NOT_EXCEED_DEBITS = "credits_must_not_exceed_debits"
    """Pending and posted credits never exceed posted debits."""


class LedgerAccountBalance(Base):
    """The maintained balance of a flagged account; only flagged accounts have one.

    Every transfer on the account moves these columns in the statement that checks the flag
    (`_apply_limited`), under this row's lock, so two workers posting at once are serialised
    here and neither can take the account past its limit. Unflagged accounts (Stripe clearing,
    a nonprofit's donations) keep no row, so their postings never wait on one another.
    """

    __tablename__ = "ledger_account_balances"
    __table_args__ = (
        sa.CheckConstraint(
            "debits_pending_minor >= 0 AND debits_posted_minor >= 0"
            " AND credits_pending_minor >= 0 AND credits_posted_minor >= 0",
            name="amounts_not_negative",
        ),
        # The flag again as a constraint: a change that bypassed _apply_limited is refused too.
        sa.CheckConstraint(
            "balance_limit <> 'debits_must_not_exceed_credits'"
            " OR debits_pending_minor + debits_posted_minor <= credits_posted_minor",
            name="debits_within_credits",
        ),
        sa.CheckConstraint(
            "balance_limit <> 'credits_must_not_exceed_debits'"
            " OR credits_pending_minor + credits_posted_minor <= debits_posted_minor",
            name="credits_within_debits",
        ),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("ledger_accounts.id"), primary_key=True)
    balance_limit: Mapped[BalanceLimit] = mapped_column(str_enum(BalanceLimit, "ledger_balance_limit"))
    debits_pending_minor: Mapped[int] = mapped_column(sa.BigInteger(), default=0)
    debits_posted_minor: Mapped[int] = mapped_column(sa.BigInteger(), default=0)
    credits_pending_minor: Mapped[int] = mapped_column(sa.BigInteger(), default=0)
    credits_posted_minor: Mapped[int] = mapped_column(sa.BigInteger(), default=0)


class LedgerLimitExceeded(DomainError):
    """A posting would take a flagged account past its limit; nothing was written."""

    code = "ledger_limit_exceeded"
    status_code = 409


@dataclass(frozen=True)
class Posting:
    idempotency_key: str
    debit: str
    credit: str
    amount_minor: int
    currency: str
    code: str
    donation_id: uuid.UUID | None = None
    kind: TransferKind = TransferKind.POSTED
    pending_id: uuid.UUID | None = None


_TRANSFER_ID_NAMESPACE = uuid.UUID("5b0f3c52-7d1e-4e0a-9a57-0c0d6f7e2b11")


def transfer_id_for(idempotency_key: str) -> uuid.UUID:
    """A transfer's id, derived from its idempotency key (ids as idempotency keys, as in
    TigerBeetle): phase two of a two-phase transfer can name its pending transfer before
    the deferred INSERT has run, and a replay names the same row."""
    return uuid.uuid5(_TRANSFER_ID_NAMESPACE, idempotency_key)


async def account_id(session: UnitOfWork, *, code: str, currency: str) -> uuid.UUID:
    """The account for (code, currency), created on first use without a race.

    Ids are cached in the unit of work (accounts are never deleted), so a worker posting many
    transfers in one transaction asks the database once per account. A savepoint rollback
    drops the cache (`UnitOfWork.forget_caches`).
    """
    cache = session.ledger_account_ids
    cached = cache.get((code, currency))
    if cached is not None:
        return cached
    await session.execute(
        insert_for(session, LedgerAccount)
        .values(id=uuid.uuid4(), code=code, currency=currency, created_at=session.now())
        .on_conflict_do_nothing(index_elements=["code", "currency"])
    )
    found = await session.scalar(
        sa.select(LedgerAccount.id).where(LedgerAccount.code == code, LedgerAccount.currency == currency)
    )
    assert found is not None
    cache[(code, currency)] = found
    return found


@functools.cache
def _insert_transfer(dialect: str, *, returning: bool) -> sa.Insert:
    """One INSERT ... ON CONFLICT DO NOTHING per dialect, built once.

    A worker posts thousands of transfers a second; building the statement each time cost
    more than running it. Core, on the session's connection: nothing here needs the ORM.
    """
    insert = postgresql.insert(LedgerTransfer) if dialect == "postgresql" else sqlite.insert(LedgerTransfer)
    statement = insert.values({column: sa.bindparam(column) for column in _TRANSFER_COLUMNS})
    statement = statement.on_conflict_do_nothing(index_elements=["idempotency_key"])
    return statement.returning(LedgerTransfer.id) if returning else statement


_TRANSFER_COLUMNS = (
    "id",
    "idempotency_key",
    "debit_account_id",
    "credit_account_id",
    "amount_minor",
    "currency",
    "code",
    "kind",
    "pending_id",
    "donation_id",
    "created_at",
)


def defer_postings(session: UnitOfWork) -> None:
    """From now on, post() queues transfers until flush_postings() writes them in one go.

    For a batch worker: one multi-row INSERT instead of a round trip per transfer. While
    postings are deferred, post() answers None (whether a key was new is decided at the
    flush), and every ledger read in this module flushes first, so reads see the queue.
    A posting to a flagged account is not queued: the queue is flushed and it is checked and
    written at once, so a refusal reaches the caller that can still act on it.
    """
    session.ledger_deferred = []
    session.queue_writes(flush_postings)


async def flush_postings(session: AsyncSession) -> None:
    """Write the queued transfers, if any; each key still counts once (ON CONFLICT DO NOTHING).

    Reads call this first so they see the queue; a session that is no unit of work has none.
    The unit of work calls it itself before it commits (`UnitOfWork.finish`).
    """
    if not isinstance(session, UnitOfWork) or not session.ledger_deferred:
        return
    queued, session.ledger_deferred = session.ledger_deferred, []
    connection = await session.connection()
    await connection.execute(_insert_transfer(connection.dialect.name, returning=False), queued)


async def post(session: UnitOfWork, posting: Posting) -> uuid.UUID | None:
    """Record a transfer once; returns its id, or None when the key was already posted."""
    if posting.amount_minor <= 0:
        raise ValueError("ledger transfers move a positive amount")
    # Sibling events in one batch post the same fact again; a key posted in this very
    # transaction needs no round trip to learn that it conflicts.
    posted = session.ledger_posted_keys
    if posting.idempotency_key in posted:
        return None
    row = {
        "id": transfer_id_for(posting.idempotency_key),
        "idempotency_key": posting.idempotency_key,
        "debit_account_id": await account_id(session, code=posting.debit, currency=posting.currency),
        "credit_account_id": await account_id(session, code=posting.credit, currency=posting.currency),
        "amount_minor": posting.amount_minor,
        "currency": posting.currency,
        "code": posting.code,
        "kind": posting.kind,
        "pending_id": posting.pending_id,
        "donation_id": posting.donation_id,
        "created_at": session.now(),
    }
    limited = await _limited_sides(session, row)
    if limited:
        # Checked now, not at a deferred flush: the caller hears of a refusal where it can
        # still act on it. Queued transfers go first, as a phase two may name one of them.
        await flush_postings(session)
        inserted_limited = await _post_limited(session, row, limited)
        posted.add(posting.idempotency_key)
        return inserted_limited
    posted.add(posting.idempotency_key)
    deferred = session.ledger_deferred
    if deferred is not None:
        deferred.append(row)
        return None
    connection = await session.connection()
    inserted: uuid.UUID | None = (
        await connection.execute(_insert_transfer(connection.dialect.name, returning=True), row)
    ).scalar()
    return inserted


async def open_limited_account(
    session: UnitOfWork, *, code: str, currency: str, limit: BalanceLimit
) -> uuid.UUID:
    """The account for (code, currency), flagged with `limit` from now on.

    Its balance row starts from the transfers already on it (none, for an account flagged
    before its first transfer); an account already flagged keeps its row.
    """
    account = await account_id(session, code=code, currency=currency)
    await flush_postings(session)
    sums = _transfer_sums(account)
    await session.execute(
        insert_for(session, LedgerAccountBalance)
        .from_select(
            [
                "account_id",
                "balance_limit",
                "debits_pending_minor",
                "debits_posted_minor",
                "credits_pending_minor",
                "credits_posted_minor",
            ],
            sa.select(sa.literal(account, sa.Uuid()), sa.literal(limit.value), *sums),
        )
        .on_conflict_do_nothing(index_elements=["account_id"])
    )
    session.ledger_limited_accounts[account] = True
    return account


def _transfer_sums(account: uuid.UUID) -> list[sa.ScalarSelect[int]]:
    """Debits pending (unsettled), debits posted, credits pending, credits posted of an account."""
    settled = sa.select(LedgerTransfer.pending_id).where(LedgerTransfer.pending_id.is_not(None))
    open_pending = sa.and_(LedgerTransfer.kind == TransferKind.PENDING, LedgerTransfer.id.not_in(settled))
    counted = LedgerTransfer.kind.in_([TransferKind.POSTED, TransferKind.POST_PENDING])

    def total(side: sa.ColumnElement[bool], kind: sa.ColumnElement[bool]) -> sa.ScalarSelect[int]:
        amount = sa.func.coalesce(sa.func.sum(LedgerTransfer.amount_minor), 0)
        return sa.select(amount).where(side, kind).scalar_subquery()

    debit = LedgerTransfer.debit_account_id == account
    credit = LedgerTransfer.credit_account_id == account
    return [
        total(debit, open_pending),
        total(debit, counted),
        total(credit, open_pending),
        total(credit, counted),
    ]


async def _limited_sides(session: UnitOfWork, row: dict[str, object]) -> list[tuple[uuid.UUID, str]]:
    """The flagged accounts a transfer row touches, with their side, in id order (the lock order).

    Whether an account is flagged is asked once per session (flags are set before an account's
    first transfer and never removed), so unflagged postings cost no round trip.
    """
    cache = session.ledger_limited_accounts
    sides = [(row["debit_account_id"], "debits"), (row["credit_account_id"], "credits")]
    accounts = [a for a, _ in sides if isinstance(a, uuid.UUID)]
    unknown = [a for a in accounts if a not in cache]
    if unknown:
        found = set(
            await session.scalars(
                sa.select(LedgerAccountBalance.account_id).where(LedgerAccountBalance.account_id.in_(unknown))
            )
        )
        cache.update((a, a in found) for a in unknown)
    return sorted((a, side) for a, side in sides if isinstance(a, uuid.UUID) and cache[a])


def _deltas(side: str, kind: object, amount: int) -> dict[str, int]:
    """How a transfer moves a flagged account's four columns (TigerBeetle's two-phase rules)."""
    deltas = dict.fromkeys(("debits_pending", "debits_posted", "credits_pending", "credits_posted"), 0)
    if kind == TransferKind.POSTED:
        deltas[f"{side}_posted"] = amount
    elif kind == TransferKind.PENDING:
        deltas[f"{side}_pending"] = amount
    elif kind == TransferKind.POST_PENDING:
        deltas[f"{side}_pending"] = -amount
        deltas[f"{side}_posted"] = amount
    else:
        deltas[f"{side}_pending"] = -amount
    return deltas


@functools.cache
def _update_balance(*, guarded: bool) -> sa.Update:
    """Move a flagged account's columns; guarded, only if the new values keep its flag.

    One statement: the row lock it takes serialises concurrent postings on the account, and
    its WHERE sees the row as the last committed posting left it, so the check cannot race.
    """
    b = LedgerAccountBalance.__table__.c
    new = {name: b[f"{name}_minor"] + sa.bindparam(name) for name in _DELTA_NAMES}
    statement = (
        sa.update(LedgerAccountBalance)
        .where(b.account_id == sa.bindparam("account"))
        .values({f"{name}_minor": value for name, value in new.items()})
    )
    if guarded:
        statement = statement.where(
            sa.or_(
                b.balance_limit != BalanceLimit.DEBITS_MUST_NOT_EXCEED_CREDITS.value,
                new["debits_pending"] + new["debits_posted"] <= new["credits_posted"],
            ),
            sa.or_(
                b.balance_limit != BalanceLimit.CREDITS_MUST_NOT_EXCEED_DEBITS.value,
                new["credits_pending"] + new["credits_posted"] <= new["debits_posted"],
            ),
        )
    return statement.returning(b.account_id)


_DELTA_NAMES = ("debits_pending", "debits_posted", "credits_pending", "credits_posted")


async def _post_limited(
    session: AsyncSession, row: dict[str, object], limited: list[tuple[uuid.UUID, str]]
) -> uuid.UUID | None:
    """Move the flagged balances (refusing past a limit), then insert the transfer.

    Balances first: a refused posting then writes nothing (the transfers table refuses
    DELETE). A replayed key moved them for nothing, so that is undone; the row locks are
    held to commit, so no one sees the balance in between.
    """
    connection = await session.connection()
    amount = row["amount_minor"]
    assert isinstance(amount, int)
    applied: list[dict[str, object]] = []
    for account, side in limited:
        params: dict[str, object] = {"account": account, **_deltas(side, row["kind"], amount)}
        if (await connection.execute(_update_balance(guarded=True), params)).first() is None:
            await _undo(connection, applied)
            if await session.scalar(sa.select(LedgerTransfer.id).where(LedgerTransfer.id == row["id"])):
                return None  # a replay of a posting made while the account had room
            raise LedgerLimitExceeded(
                f"transfer {row['idempotency_key']} of {amount} would take a flagged account past its limit"
            )
        applied.append(params)
    inserted: uuid.UUID | None = (
        await connection.execute(_insert_transfer(connection.dialect.name, returning=True), row)
    ).scalar()
    if inserted is None:
        await _undo(connection, applied)
    return inserted


async def _undo(connection: AsyncConnection, applied: list[dict[str, object]]) -> None:
    for params in applied:
        undo = {k: -v if isinstance(v, int) else v for k, v in params.items()}
        await connection.execute(_update_balance(guarded=False), undo)


@dataclass(frozen=True)
class LimitedBalance:
    """A flagged account's maintained balance."""

    balance_limit: BalanceLimit
    debits_pending_minor: int
    debits_posted_minor: int
    credits_pending_minor: int
    credits_posted_minor: int

    @property
    def available_minor(self) -> int:
        """What a debit-limited account can still give: posted credits less every debit."""
        return self.credits_posted_minor - self.debits_pending_minor - self.debits_posted_minor


async def limited_balance(session: AsyncSession, *, code: str, currency: str) -> LimitedBalance | None:
    """The maintained balance of a flagged account, or None for an unflagged or unknown one."""
    await flush_postings(session)
    b = LedgerAccountBalance
    row = (
        await session.execute(
            sa.select(
                b.balance_limit,
                b.debits_pending_minor,
                b.debits_posted_minor,
                b.credits_pending_minor,
                b.credits_posted_minor,
            )
            .join(LedgerAccount, LedgerAccount.id == b.account_id)
            .where(LedgerAccount.code == code, LedgerAccount.currency == currency)
        )
    ).first()
    return None if row is None else LimitedBalance(*row)


async def balance(session: AsyncSession, *, code: str, currency: str) -> int:
    """Credits minus debits of posted (and settled two-phase) transfers on an account."""
    await flush_postings(session)
    account = await session.scalar(
        sa.select(LedgerAccount.id).where(LedgerAccount.code == code, LedgerAccount.currency == currency)
    )
    if account is None:
        return 0
    counted = LedgerTransfer.kind.in_([TransferKind.POSTED, TransferKind.POST_PENDING])
    credits = sa.select(sa.func.coalesce(sa.func.sum(LedgerTransfer.amount_minor), 0)).where(
        LedgerTransfer.credit_account_id == account, counted
    )
    debits = sa.select(sa.func.coalesce(sa.func.sum(LedgerTransfer.amount_minor), 0)).where(
        LedgerTransfer.debit_account_id == account, counted
    )
    return int(await session.scalar(credits) or 0) - int(await session.scalar(debits) or 0)
