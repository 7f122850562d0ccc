"""Campaign updates: short news the nonprofit posts on its campaign page.

They live with the donor's path (not with `campaign`) because they are screened by the keyword
screen of `moderation`, which sits above `campaign` in the domain order.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, created_at_column, str_enum, uuid_pk


class UpdateStatus(StrEnum):
    PUBLISHED = "published"
    """On the campaign page and in the public list."""
    HELD = "held"
    """The keyword screen flagged it: not public until a moderator publishes it."""


class CampaignUpdate(Base):
    __tablename__ = "campaign_updates"
    __table_args__ = (
        sa.Index("ix_campaign_updates_campaign_status_created", "campaign_id", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    campaign_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("campaigns.id"))
    nonprofit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("nonprofits.id"), index=True)
    title: Mapped[str | None] = mapped_column(sa.String(200))
    body_markdown: Mapped[str] = mapped_column(sa.Text())
    # Rendered and sanitised once at write time, like the story: the public page is the hot path.
    body_html: Mapped[str] = mapped_column(sa.Text())
    status: Mapped[UpdateStatus] = mapped_column(
        str_enum(UpdateStatus, "campaign_update_status"), default=UpdateStatus.PUBLISHED
    )
    flags: Mapped[list[str]] = mapped_column(sa.JSON(), default=list)
    """The keyword screen's phrases found in the update, for the moderator who looks at it."""
    created_at: Mapped[datetime] = created_at_column()
