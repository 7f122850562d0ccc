"""payment mismatches: Stripe payments that did not match the donation they named

Revision ID: a1b2c3d4e5f6
Revises: f7b2d4e6a8c0
Create Date: 2026-12-03 18:00:00.000000+00:00
"""

from collections.abc import Sequence

revision: str = "a1b2c3d4e5f6"
down_revision: str | None = "f7b2d4e6a8c0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
