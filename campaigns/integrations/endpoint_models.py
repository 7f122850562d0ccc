"""Outbound webhooks: a nonprofit's endpoints, one delivery per (endpoint, event), each attempt.

The event itself (one per fact, its envelope) lives in `campaigns.integrations.events`; a
delivery keeps the exact bytes it signs and sends (`body`), so every retry and replay sends the
same body the first attempt did, whatever happens to the event store.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, created_at_column, str_enum, updated_at_column, uuid_pk


class DisabledReason(StrEnum):
    MEMBER = "member"
    """A member (or an API key) switched it off."""
    FAILING = "failing"
    """No delivery succeeded for three days; Goodloop switched it off and emailed the members."""


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    """Waiting for its next attempt (`next_attempt_at`)."""
    DELIVERED = "delivered"
    """The endpoint answered 2xx."""
    FAILED = "failed"
    """Gave up: three days of attempts, or the endpoint was disabled. A replay sends it again."""


class AttemptOutcome(StrEnum):
    DELIVERED = "delivered"
    HTTP_ERROR = "http_error"
    """The endpoint answered, but not 2xx (a 3xx too: redirects are never followed)."""
    TIMEOUT = "timeout"
    CONNECTION_ERROR = "connection_error"
    REFUSED = "refused"
    """Never sent: the address is not a public one (SSRF guard), or the URL is not allowed."""


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[uuid.UUID] = uuid_pk()
    nonprofit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("nonprofits.id"), index=True)
    url: Mapped[str] = mapped_column(sa.String(2048))
    description: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")
    enabled_events: Mapped[list[str]] = mapped_column(sa.JSON())
    """Event types it wants, or ["*"] for every type."""
    enabled: Mapped[bool] = mapped_column(sa.Boolean(), default=True, server_default=sa.true())
    disabled_reason: Mapped[DisabledReason | None] = mapped_column(
        str_enum(DisabledReason, "webhook_endpoint_disabled_reason")
    )
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Signing secrets, AES-GCM encrypted with a key derived from GOODLOOP_SECRET_KEY
    # (campaigns.integrations.signing): HMAC needs the secret itself, so it cannot be hashed.
    secret_ciphertext: Mapped[str] = mapped_column(sa.String(255))
    previous_secret_ciphertext: Mapped[str | None] = mapped_column(sa.String(255))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    secret_rolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """The first failed attempt since the last success; None while it is healthy."""
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """A worker is sending this endpoint's deliveries until then; others leave it alone."""
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # Exactly one delivery per event per endpoint, however often a fact's listener runs.
        sa.UniqueConstraint("endpoint_id", "event_id"),
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        sa.Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    endpoint_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    nonprofit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("nonprofits.id"))
    event_id: Mapped[str] = mapped_column(sa.String(64))
    event_type: Mapped[str] = mapped_column(sa.String(64))
    body: Mapped[str] = mapped_column(sa.Text())
    """The envelope JSON exactly as signed and sent."""
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus, "webhook_delivery_status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(sa.Integer(), default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """Retries stop three days after this (replays start a new window)."""
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class WebhookDeliveryAttempt(Base):
    __tablename__ = "webhook_delivery_attempts"
    __table_args__ = (sa.Index("ix_webhook_delivery_attempts_delivery", "delivery_id", "attempted_at"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    delivery_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[AttemptOutcome] = mapped_column(str_enum(AttemptOutcome, "webhook_attempt_outcome"))
    status_code: Mapped[int | None] = mapped_column(sa.Integer())
    latency_ms: Mapped[int] = mapped_column(sa.Integer())
    response_body: Mapped[str] = mapped_column(sa.Text(), default="", server_default="")
    """At most the first 1 KB the endpoint answered, decoded as UTF-8 with replacements."""
    error: Mapped[str | None] = mapped_column(sa.String(300))
