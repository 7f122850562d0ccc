"""ledger transfers are append-only

Every cent is a transfer in the ledger; corrections are new transfers, never edits. A trigger
refuses UPDATE and DELETE on ledger_transfers on both backends.

Revision ID: b3c9e1d7a4f2
Revises: bed1471ce100
Create Date: 2026-11-27 23:30:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b3c9e1d7a4f2"
down_revision: str | None = "bed1471ce100"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # goodloop_refuse_change() comes from the audit-log revision.
        op.execute(
            "CREATE TRIGGER ledger_transfers_append_only BEFORE UPDATE OR DELETE ON ledger_transfers "
            "FOR EACH ROW EXECUTE FUNCTION goodloop_refuse_change()"
        )
    else:
        op.execute(
            "CREATE TRIGGER ledger_transfers_no_update BEFORE UPDATE ON ledger_transfers "
            "BEGIN SELECT RAISE(ABORT, 'ledger_transfers is append-only'); END"
        )
        op.execute(
            "CREATE TRIGGER ledger_transfers_no_delete BEFORE DELETE ON ledger_transfers "
            "BEGIN SELECT RAISE(ABORT, 'ledger_transfers is append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER ledger_transfers_append_only ON ledger_transfers")
    else:
        op.execute("DROP TRIGGER ledger_transfers_no_update")
        op.execute("DROP TRIGGER ledger_transfers_no_delete")
