"""Campaigns and their status machine."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, created_at_column, str_enum, updated_at_column, uuid_pk


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    """Being written; editable; not public."""
    IN_REVIEW = "in_review"
    """Submitted by a verified nonprofit; waiting for a moderator."""
    LIVE = "live"
    """Approved and public; takes donations inside its dates."""
    PAUSED = "paused"
    """Public but takes no donations and earns no matches."""
    ENDED = "ended"
    """Finished; public for the record, no more donations."""
    ARCHIVED = "archived"
    """Hidden from lists; kept for the books."""


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        sa.CheckConstraint("goal_minor > 0", name="goal_positive"),
        sa.CheckConstraint("min_amount_minor > 0", name="min_amount_positive"),
        sa.CheckConstraint(
            "max_amount_minor IS NULL OR max_amount_minor >= min_amount_minor",
            name="max_not_below_min",
        ),
        sa.CheckConstraint(
            "ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at",
            name="dates_ordered",
        ),
        sa.CheckConstraint("currency = lower(currency)", name="currency_lowercase"),
        sa.CheckConstraint(
            "cover_key IS NULL OR (cover_alt IS NOT NULL AND cover_height > 0 AND cover_widths IS NOT NULL)",
            name="cover_complete",
        ),
        sa.Index("ix_campaigns_nonprofit_created", "nonprofit_id", "created_at"),
        sa.CheckConstraint("default_language IN ('nl', 'en')", name="default_language_known"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    nonprofit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("nonprofits.id"))
    # Slugs are global because /c/{slug} is the public address of a campaign.
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    story_markdown: Mapped[str] = mapped_column(sa.Text())
    # Rendered and sanitised once at write time: the public page is the hot path.
    story_html: Mapped[str] = mapped_column(sa.Text())
    currency: Mapped[str] = mapped_column(sa.String(3))
    goal_minor: Mapped[int] = mapped_column(sa.BigInteger())
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    suggested_amounts_minor: Mapped[list[int]] = mapped_column(sa.JSON(), default=list)
    min_amount_minor: Mapped[int] = mapped_column(sa.BigInteger())
    max_amount_minor: Mapped[int | None] = mapped_column(sa.BigInteger())
    cover_image_url: Mapped[str | None] = mapped_column(sa.String(1000))
    # An uploaded cover (campaigns.campaign.covers) takes precedence over cover_image_url. Its
    # files are named after cover_key, the upload's SHA-256, so they never change once written.
    cover_key: Mapped[str | None] = mapped_column(sa.String(64))
    cover_alt: Mapped[str | None] = mapped_column(sa.String(300))
    cover_height: Mapped[int | None] = mapped_column(sa.Integer())
    """Pixel height of the widest variant: the page sets width/height so nothing shifts on load."""
    cover_widths: Mapped[list[int] | None] = mapped_column(sa.JSON())
    """The variants' widths, ascending (never wider than the upload)."""
    allowed_embed_origins: Mapped[list[str]] = mapped_column(sa.JSON(), default=list)
    # The language a visitor sees when neither `?lang=`, the language cookie nor the browser's
    # Accept-Language names one Goodloop speaks (service.web.language).
    default_language: Mapped[str] = mapped_column(sa.String(2), default="en", server_default="en")
    # Peer-to-peer: supporters may start fundraiser pages for this campaign (campaigns.fundraising),
    # and, when asked, each page waits for the nonprofit's approval before it is public.
    fundraisers_enabled: Mapped[bool] = mapped_column(sa.Boolean(), default=False, server_default=sa.false())
    fundraisers_need_approval: Mapped[bool] = mapped_column(
        sa.Boolean(), default=False, server_default=sa.false()
    )
    status: Mapped[CampaignStatus] = mapped_column(
        str_enum(CampaignStatus, "campaign_status"),
        default=CampaignStatus.DRAFT,
        index=True,
    )
    review_note: Mapped[str | None] = mapped_column(sa.Text())
    admin_pause_reason: Mapped[str | None] = mapped_column(sa.Text())
    """Set while an admin holds the campaign paused; the nonprofit cannot resume it then."""
    status_changes: Mapped[int] = mapped_column(sa.Integer(), default=0, server_default="0")
    """How many times the status moved: the n-th move is announced once, keyed by n
    (campaigns.campaign.announcements), however often a campaign pauses and resumes."""
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Derived from settled donations and recomputed (never incremented) whenever one changes;
    # the campaign page reads them without aggregating on every view.
    raised_minor: Mapped[int] = mapped_column(sa.BigInteger(), default=0, server_default="0")
    donor_count: Mapped[int] = mapped_column(sa.Integer(), default=0, server_default="0")
    matched_minor: Mapped[int] = mapped_column(sa.BigInteger(), default=0, server_default="0")
    """Match money on top, recomputed with the two above (which matches count:
    campaigns.matching.totals)."""
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    @property
    def cover_width(self) -> int | None:
        """Pixel width of the uploaded cover's widest variant (the last of cover_widths)."""
        return self.cover_widths[-1] if self.cover_key and self.cover_widths else None

    def cover_file(self, width: int, extension: str) -> str:
        """The media name of one variant of the uploaded cover (pages, API and console)."""
        assert self.cover_key is not None
        return cover_file_name(self.cover_key, width, extension)

    def cover_height_for(self, width: int) -> int:
        """The height of the variant `width` wide (variants keep the upload's proportions)."""
        widest = self.cover_width or width
        return round((self.cover_height or 0) * width / widest)


def cover_file_name(key: str, width: int, extension: str) -> str:
    """Covers are named after the upload's SHA-256, so a name never changes once written."""
    return f"covers/{key}-{width}.{extension}"
