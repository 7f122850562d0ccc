"""ledger balance limits: flagged accounts keep a balance the ledger checks at posting time

Revision ID: c3d4e5f6a7b8
Revises: b2c3d4e5f6a7
Create Date: 2026-12-04 09:00:00.000000+00:00

A matching pool may never give more than it holds. The program row's CHECK constraint guarded
that through counters the code kept in step; now the ledger guards it itself, as TigerBeetle's
`debits_must_not_exceed_credits` flag does: a flagged account has one row of maintained sums
(pending and posted, debits and credits), moved in the statement that checks the flag, and
CHECK constraints refuse a row past its limit. Only flagged accounts get a row, so busy
unflagged accounts (Stripe clearing) never queue on one.

Every existing pool account (`program:{id}:pool`) is flagged, its sums rebuilt from its
transfers: open pending transfers (neither posted nor voided) count as pending, posted ones and
posted phase twos as posted.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3d4e5f6a7b8"
down_revision: str | None = "b2c3d4e5f6a7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_account_balances",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column(
            "balance_limit",
            sa.Enum(
                "debits_must_not_exceed_credits",
                "credits_must_not_exceed_debits",
                name="ledger_balance_limit",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("debits_pending_minor", sa.BigInteger(), nullable=False),
        sa.Column("debits_posted_minor", sa.BigInteger(), nullable=False),
        sa.Column("credits_pending_minor", sa.BigInteger(), nullable=False),
        sa.Column("credits_posted_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "debits_pending_minor >= 0 AND debits_posted_minor >= 0"
            " AND credits_pending_minor >= 0 AND credits_posted_minor >= 0",
            name=op.f("ck_ledger_account_balances_amounts_not_negative"),
        ),
        # The flags themselves: no statement, whatever its path, leaves a flagged account past its limit.
        sa.CheckConstraint(
            "balance_limit <> 'debits_must_not_exceed_credits'"
            " OR debits_pending_minor + debits_posted_minor <= credits_posted_minor",
            name=op.f("ck_ledger_account_balances_debits_within_credits"),
        ),
        sa.CheckConstraint(
            "balance_limit <> 'credits_must_not_exceed_debits'"
            " OR credits_pending_minor + credits_posted_minor <= debits_posted_minor",
            name=op.f("ck_ledger_account_balances_credits_within_debits"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_account_balances_account_id_ledger_accounts"),
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_ledger_account_balances")),
    )
    op.execute(
        sa.text(
            """
        INSERT INTO ledger_account_balances (
            account_id, balance_limit,
            debits_pending_minor, debits_posted_minor, credits_pending_minor, credits_posted_minor
        )
        SELECT a.id, 'debits_must_not_exceed_credits',
            (SELECT coalesce(sum(t.amount_minor), 0) FROM ledger_transfers t
              WHERE t.debit_account_id = a.id AND t.kind = 'pending'
                AND NOT EXISTS (SELECT 1 FROM ledger_transfers s WHERE s.pending_id = t.id)),
            (SELECT coalesce(sum(t.amount_minor), 0) FROM ledger_transfers t
              WHERE t.debit_account_id = a.id AND t.kind IN ('posted', 'post_pending')),
            (SELECT coalesce(sum(t.amount_minor), 0) FROM ledger_transfers t
              WHERE t.credit_account_id = a.id AND t.kind = 'pending'
                AND NOT EXISTS (SELECT 1 FROM ledger_transfers s WHERE s.pending_id = t.id)),
            (SELECT coalesce(sum(t.amount_minor), 0) FROM ledger_transfers t
              WHERE t.credit_account_id = a.id AND t.kind IN ('posted', 'post_pending'))
        FROM ledger_accounts a
        WHERE a.code LIKE :pool_accounts
        """
        ).bindparams(pool_accounts="program:%:pool")
    )


def downgrade() -> None:
    op.drop_table("ledger_account_balances")
