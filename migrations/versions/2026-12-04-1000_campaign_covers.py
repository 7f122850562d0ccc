"""campaign covers: uploaded images and their variants

Revision ID: d4e5f6a7b8c9
Revises: c3d4e5f6a7b8
Create Date: 2026-12-04 10:00:00.000000+00:00

A campaign's uploaded cover: the key (the upload's SHA-256, which names its files under the
media directory), the alt text, the widest variant's size and the variants' widths. The CHECK
keeps a cover whole: a key never stands without its alt text and sizes, so the page never
renders an image it cannot describe or size.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d4e5f6a7b8c9"
down_revision: str | None = "c3d4e5f6a7b8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cover_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("cover_alt", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("cover_height", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("cover_widths", sa.JSON(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_campaigns_cover_complete"),
            "cover_key IS NULL OR (cover_alt IS NOT NULL AND cover_height > 0 AND cover_widths IS NOT NULL)",
        )


def downgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_campaigns_cover_complete"), type_="check")
        batch_op.drop_column("cover_widths")
        batch_op.drop_column("cover_height")
        batch_op.drop_column("cover_alt")
        batch_op.drop_column("cover_key")
