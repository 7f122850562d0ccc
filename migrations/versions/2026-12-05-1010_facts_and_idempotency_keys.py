"""integration events and API idempotency keys (F)

Revision ID: b8c9d0e1f2a3
Revises: a7b8c9d0e1f2
Create Date: 2026-12-05 10:10:00.000000+00:00

integration_events: one row per announced fact (campaigns.integrations.events), the envelope
as endpoints receive it; its key UNIQUE so a fact stores one event however often it is heard.
donations.dispute_status: Stripe's status of the payment's dispute, so "disputed" and "dispute
closed" are announced at the step that makes them true, once. campaigns.status_changes: how
many times a campaign's status moved, which keys each campaign.status_changed fact.
idempotency_keys: each API caller's Idempotency-Key, claimed by its first request and then
holding that request's answer (service.web.idempotency); UNIQUE (actor, key).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from service.db import UTCDateTime

revision: str = "b8c9d0e1f2a3"
down_revision: str | None = "a7b8c9d0e1f2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "integration_events",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("nonprofit_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("envelope", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["nonprofit_id"], ["nonprofits.id"], name="fk_integration_events_nonprofit_id_nonprofits"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_integration_events"),
        sa.UniqueConstraint("key", name="uq_integration_events_key"),
    )
    op.create_index(
        "ix_integration_events_nonprofit_created", "integration_events", ["nonprofit_id", "created_at"]
    )
    with op.batch_alter_table("donations") as batch:
        batch.add_column(sa.Column("dispute_status", sa.String(32), nullable=True))
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_headers", sa.JSON(), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_idempotency_keys"),
        # Decides which of several racing requests with one key runs (service.web.idempotency).
        sa.UniqueConstraint("actor", "key", name="uq_idempotency_keys_actor_key"),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("status_changes", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("status_changes")
    with op.batch_alter_table("donations") as batch:
        batch.drop_column("dispute_status")
    op.drop_index("ix_integration_events_nonprofit_created", table_name="integration_events")
    op.drop_table("integration_events")
