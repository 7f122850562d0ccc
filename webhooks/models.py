"""The event inbox: every handled Stripe event, stored once, processed once."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, created_at_column, uuid_pk


class WebhookEvent(Base):
    __tablename__ = "webhook_events"
    __table_args__ = (
        # The processor's claim query: unprocessed, live, due rows in arrival order.
        sa.Index("ix_webhook_events_due", "processed_at", "dead", "next_attempt_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    stripe_event_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    type: Mapped[str] = mapped_column(sa.String(100), index=True)
    account: Mapped[str | None] = mapped_column(sa.String(255))
    """The connected account for Connect events; None for platform events."""
    api_version: Mapped[str | None] = mapped_column(sa.String(40))
    livemode: Mapped[bool] = mapped_column(sa.Boolean())
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON())
    stripe_created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = created_at_column()
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(sa.Integer(), default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text())
    dead: Mapped[bool] = mapped_column(sa.Boolean(), default=False)
