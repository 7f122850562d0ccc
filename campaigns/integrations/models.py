"""Integration tables: the event store (one row per announced fact, campaigns.integrations.events)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime


class IntegrationEvent(Base):
    """One announced fact, as the event every endpoint of its nonprofit will receive."""

    __tablename__ = "integration_events"
    __table_args__ = (
        # A nonprofit's events newest first (the delivery log, replays "since a time").
        sa.Index("ix_integration_events_nonprofit_created", "nonprofit_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    """The public event id, `evt_...`, derived from `key` (events.event_id)."""
    nonprofit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("nonprofits.id"))
    type: Mapped[str] = mapped_column(sa.String(64))
    key: Mapped[str] = mapped_column(sa.String(255), unique=True)
    """The fact's key (campaigns.facts.Fact.key): a second announcement of one fact writes nothing."""
    subject_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    """When the fact became true (the announcing unit's clock)."""
    envelope: Mapped[dict[str, Any]] = mapped_column(sa.JSON())
    """The event exactly as it is sent: id, type, created, api_version, data.object."""
