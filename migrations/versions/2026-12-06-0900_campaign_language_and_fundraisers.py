"""campaign default language and peer-to-peer switches

Revision ID: b5c6d7e8f9a0
Revises: a3b4c5d6e7f8
Create Date: 2026-12-06 09:00:00.000000+00:00

`campaigns.default_language` ('nl' or 'en'): what a visitor reads when nothing they send names
a language Goodloop speaks. `campaigns.fundraisers_enabled` and `fundraisers_need_approval`:
whether supporters may start fundraiser pages for the campaign, and whether each page waits for
the nonprofit's approval (off by default).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b5c6d7e8f9a0"
down_revision: str | None = "a3b4c5d6e7f8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("default_language", sa.String(2), nullable=False, server_default="en"))
        batch.add_column(
            sa.Column("fundraisers_enabled", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("fundraisers_need_approval", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_check_constraint("default_language_known", "default_language IN ('nl', 'en')")


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_constraint("default_language_known", type_="check")
        batch.drop_column("fundraisers_need_approval")
        batch.drop_column("fundraisers_enabled")
        batch.drop_column("default_language")
