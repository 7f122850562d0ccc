"""outbound webhook endpoints and deliveries (W)

Revision ID: a3b4c5d6e7f8
Revises: f2a3b4c5d6e7
Create Date: 2026-12-05 11:00:00.000000+00:00

A nonprofit's webhook endpoints (`webhook_endpoints`: URL, the event types it wants, its
signing secret AES-GCM encrypted, and the previous one for 24 hours after a roll), one delivery
per event per endpoint (`webhook_deliveries`, UNIQUE (endpoint_id, event_id), keeping the exact
body it signs) and every attempt (`webhook_delivery_attempts`: outcome, status code, latency,
the first 1 KB of the answer). Deleting an endpoint deletes its deliveries and their log.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db

revision: str = "a3b4c5d6e7f8"
down_revision: str | None = "f2a3b4c5d6e7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _at(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, service.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("nonprofit_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("description", sa.String(length=500), server_default="", nullable=False),
        sa.Column("enabled_events", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column(
            "disabled_reason", _enum("webhook_endpoint_disabled_reason", "member", "failing"), nullable=True
        ),
        _at("disabled_at"),
        sa.Column("secret_ciphertext", sa.String(length=255), nullable=False),
        sa.Column("previous_secret_ciphertext", sa.String(length=255), nullable=True),
        _at("previous_secret_expires_at"),
        _at("secret_rolled_at"),
        _at("failing_since"),
        _at("last_success_at"),
        _at("lease_until"),
        _at("created_at", nullable=False),
        _at("updated_at", nullable=False),
        sa.ForeignKeyConstraint(
            ["nonprofit_id"], ["nonprofits.id"], name=op.f("fk_webhook_endpoints_nonprofit_id_nonprofits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
    )
    op.create_index(
        op.f("ix_webhook_endpoints_nonprofit_id"), "webhook_endpoints", ["nonprofit_id"], unique=False
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("endpoint_id", sa.Uuid(), nullable=False),
        sa.Column("nonprofit_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "status", _enum("webhook_delivery_status", "pending", "delivered", "failed"), nullable=False
        ),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        _at("next_attempt_at"),
        _at("first_attempt_at"),
        _at("delivered_at"),
        _at("created_at", nullable=False),
        _at("updated_at", nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_webhook_deliveries_endpoint_id_webhook_endpoints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["nonprofit_id"], ["nonprofits.id"], name=op.f("fk_webhook_deliveries_nonprofit_id_nonprofits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "endpoint_id", "event_id", name=op.f("uq_webhook_deliveries_endpoint_id_event_id")
        ),
    )
    op.create_index(
        "ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"], unique=False
    )
    op.create_index(
        "ix_webhook_deliveries_endpoint_created",
        "webhook_deliveries",
        ["endpoint_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "webhook_delivery_attempts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        _at("attempted_at", nullable=False),
        sa.Column(
            "outcome",
            _enum(
                "webhook_attempt_outcome",
                "delivered",
                "http_error",
                "timeout",
                "connection_error",
                "refused",
            ),
            nullable=False,
        ),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.Text(), server_default="", nullable=False),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_deliveries.id"],
            name=op.f("fk_webhook_delivery_attempts_delivery_id_webhook_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery_attempts")),
    )
    op.create_index(
        "ix_webhook_delivery_attempts_delivery",
        "webhook_delivery_attempts",
        ["delivery_id", "attempted_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_delivery_attempts_delivery", table_name="webhook_delivery_attempts")
    op.drop_table("webhook_delivery_attempts")
    op.drop_index("ix_webhook_deliveries_endpoint_created", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_due", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index(op.f("ix_webhook_endpoints_nonprofit_id"), table_name="webhook_endpoints")
    op.drop_table("webhook_endpoints")
