"""Donor reports about campaigns: the public "report this campaign" link feeds the moderation queue."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, created_at_column, str_enum, uuid_pk


class ReportReason(StrEnum):
    MISLEADING = "misleading"
    """The story or the use of the money looks untrue."""
    IMPERSONATION = "impersonation"
    """Someone pretends to be a nonprofit or a person they are not."""
    OFFENSIVE = "offensive"
    """Hateful, violent or otherwise abusive content."""
    SPAM = "spam"
    """Spam, scams or manipulated engagement."""
    OTHER = "other"


class CampaignReport(Base):
    __tablename__ = "campaign_reports"
    __table_args__ = (sa.Index("ix_campaign_reports_campaign_open", "campaign_id", "resolved_at"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    campaign_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("campaigns.id"))
    donation_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("donations.id"), index=True)
    """Set when the report is about one donor's message on the wall of support, not the campaign."""
    fundraiser_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid(), index=True)
    """Set when the report is about a supporter's fundraiser page (campaigns.fundraising); no
    foreign key, because moderation sits below fundraising."""
    reason: Mapped[ReportReason] = mapped_column(str_enum(ReportReason, "campaign_report_reason"))
    message: Mapped[str] = mapped_column(sa.Text())
    reporter_email: Mapped[str | None] = mapped_column(sa.String(320))
    # A keyed hash of the network, never the address: enough to spot one source flooding reports.
    client_hash: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = created_at_column()
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_admin_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("admins.id"))
    resolution_note: Mapped[str | None] = mapped_column(sa.Text())
