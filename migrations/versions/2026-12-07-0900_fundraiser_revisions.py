"""fundraisers.hidden_from: the status a hidden page returns to when shown again (issue #15)

Revision ID: d7e8f9a0b1c2
Revises: c6d7e8f9a0b1
Create Date: 2026-12-07 09:00:00.000000+00:00

Unhiding used to put every page live, even one hidden while it still waited for the nonprofit's
approval. The page now remembers where it was hidden from. Pages hidden before this revision
return to `live` only when the nonprofit had approved them; the others wait for approval again
(NULL here, read by campaigns.fundraising.decisions.unhide): never skip an approval.

fundraisers.content_revision counts changes to what the nonprofit approves (title, story, photo,
a new team's name); approving names the revision the reviewer saw (decisions.approve).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d7e8f9a0b1c2"
down_revision: str | None = "c6d7e8f9a0b1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUSES = ("pending_email", "pending_approval", "live", "hidden", "ended")


def upgrade() -> None:
    with op.batch_alter_table("fundraisers") as batch:
        batch.add_column(
            sa.Column(
                "hidden_from",
                sa.Enum(
                    *_STATUSES,
                    name="fundraiser_hidden_from",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                nullable=True,
            )
        )
        batch.add_column(sa.Column("content_revision", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("fundraisers") as batch:
        batch.drop_column("content_revision")
        batch.drop_constraint(op.f("ck_fundraisers_fundraiser_hidden_from"), type_="check")
        batch.drop_column("hidden_from")
