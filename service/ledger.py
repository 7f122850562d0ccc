"""Double-entry, append-only ledger (after TigerBeetle): accounts and transfers.

A transfer moves a positive amount from one account (debit) to another (credit) in one
currency. Its idempotency key is derived from the Stripe object or our own row, so posting
the same fact twice is a no-op enforced by a UNIQUE constraint, not by a read first.
Corrections are new transfers; the table refuses UPDATE and DELETE (trigger in the
migration). Two-phase transfers: a PENDING transfer reserves, a later POST_PENDING or
VOID_PENDING transfer (referring to it) settles or releases it. Balances are derived.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, created_at_column, insert_for, str_enum, uuid_pk


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


_ACCOUNT_CACHE = "ledger_account_ids"
_POSTED_KEYS = "ledger_posted_keys"


def forget_session_caches(session: AsyncSession) -> None:
    """Drop the session's caches (account ids, keys posted); call after rolling back to a savepoint."""
    session.info.pop(_ACCOUNT_CACHE, None)
    session.info.pop(_POSTED_KEYS, None)
    session.info.pop(_DEFERRED, None)


async def account_id(session: AsyncSession, *, code: str, currency: str) -> uuid.UUID:
    """The account for (code, currency), created on first use without a race.

    Ids are cached for the session's life (accounts are never deleted), so a worker posting
    many transfers in one transaction asks the database once per account.
    """
    cache: dict[tuple[str, str], uuid.UUID] = session.info.setdefault(_ACCOUNT_CACHE, {})
    cached = cache.get((code, currency))
    if cached is not None:
        return cached
    await session.execute(
        insert_for(session, LedgerAccount)
        .values(id=uuid.uuid4(), code=code, currency=currency)
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
)

_DEFERRED = "ledger_deferred_postings"


def defer_postings(session: AsyncSession) -> None:
    """From now on, post() queues transfers until flush_postings() writes them in one go.

    For a batch worker: one multi-row INSERT instead of a round trip per transfer. While
    postings are deferred, post() answers None (whether a key was new is decided at the
    flush), and every ledger read in this module flushes first, so reads see the queue.
    """
    session.info[_DEFERRED] = []


async def flush_postings(session: AsyncSession) -> None:
    """Write the queued transfers, if any; each key still counts once (ON CONFLICT DO NOTHING)."""
    queued: list[dict[str, object]] | None = session.info.get(_DEFERRED)
    if not queued:
        return
    session.info[_DEFERRED] = []
    connection = await session.connection()
    await connection.execute(_insert_transfer(connection.dialect.name, returning=False), queued)


async def post(session: AsyncSession, posting: Posting) -> uuid.UUID | None:
    """Record a transfer once; returns its id, or None when the key was already posted."""
    if posting.amount_minor <= 0:
        raise ValueError("ledger transfers move a positive amount")
    # Sibling events in one batch post the same fact again; a key posted in this very
    # transaction needs no round trip to learn that it conflicts.
    posted: set[str] = session.info.setdefault(_POSTED_KEYS, set())
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
    }
    posted.add(posting.idempotency_key)
    deferred: list[dict[str, object]] | None = session.info.get(_DEFERRED)
    if deferred is not None:
        deferred.append(row)
        return None
    connection = await session.connection()
    inserted: uuid.UUID | None = (
        await connection.execute(_insert_transfer(connection.dialect.name, returning=True), row)
    ).scalar()
    return inserted


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
