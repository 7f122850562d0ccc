"""Share links (per channel, per supporter) and deduplicated visits."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, created_at_column, str_enum, uuid_pk


class ShareLinkKind(StrEnum):
    CHANNEL = "channel"
    """Created by the nonprofit for a channel (tiktok, instagram, email...)."""
    SUPPORTER = "supporter"
    """A donor's personal link, shown on the thank-you page."""
    FUNDRAISER = "fundraiser"
    """A fundraiser's page link (campaigns.fundraising): the fundraiser refers the gifts it brings."""


class ShareLink(Base):
    __tablename__ = "share_links"

    id: Mapped[uuid.UUID] = uuid_pk()
    campaign_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("campaigns.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    kind: Mapped[ShareLinkKind] = mapped_column(str_enum(ShareLinkKind, "share_link_kind"))
    channel: Mapped[str | None] = mapped_column(sa.String(40))
    # A donor gets exactly one personal link per donation.
    donation_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid(), unique=True)
    owner_email_digest: Mapped[str | None] = mapped_column(sa.String(64))
    """A fundraiser's link: the fundraiser's email identity key (campaigns.matching.identity), by
    which the referral policies find the fundraiser's donor cluster; None for other kinds."""
    visit_count: Mapped[int] = mapped_column(sa.Integer(), default=0)
    created_at: Mapped[datetime] = created_at_column()


class ShareVisit(Base):
    """One visitor per link per dedupe window; the visitor key is a keyed, rotating hash."""

    __tablename__ = "share_visits"
    __table_args__ = (
        sa.UniqueConstraint("share_link_id", "visitor_hash", "window_start", name="uq_share_visits_dedupe"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    share_link_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("share_links.id"), index=True)
    visitor_hash: Mapped[str] = mapped_column(sa.String(64))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()
