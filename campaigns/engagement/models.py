"""Daily engagement counters per campaign: what the funnel shows, never what pays money."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, str_enum


class Metric(StrEnum):
    VIEW = "view"
    """A campaign or embed page shown to a visitor, once per visitor, campaign and UTC day."""
    CHECKOUT_STARTED = "checkout_started"
    """A Checkout Session was created for a donation to the campaign."""


class EngagementCounter(Base):
    """One row per (campaign, UTC day, metric); flushes add to `count` with an upsert."""

    __tablename__ = "engagement_counters"
    __table_args__ = (sa.CheckConstraint("count >= 0", name="count_not_negative"),)

    campaign_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("campaigns.id"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date(), primary_key=True)
    metric: Mapped[Metric] = mapped_column(str_enum(Metric, "engagement_metric"), primary_key=True)
    count: Mapped[int] = mapped_column(sa.BigInteger(), nullable=False)
