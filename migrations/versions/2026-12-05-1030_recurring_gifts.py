"""recurring gifts and donation language (S2)

Revision ID: d0e1f2a3b4c5
Revises: c9d0e1f2a3b4
Create Date: 2026-12-05 10:30:00.000000+00:00

donations.language: the language the donor gave in ('nl' or 'en'), for receipts and other
email; NULL for gifts made before it was recorded (they get the nonprofit's default).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d0e1f2a3b4c5"
down_revision: str | None = "c9d0e1f2a3b4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("donations") as batch:
        batch.add_column(sa.Column("language", sa.String(length=2), nullable=True))
        batch.create_check_constraint(op.f("ck_donations_language_known"), "language IN ('nl', 'en')")


def downgrade() -> None:
    with op.batch_alter_table("donations") as batch:
        batch.drop_constraint(op.f("ck_donations_language_known"), type_="check")
        batch.drop_column("language")
