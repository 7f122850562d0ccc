"""Peer-to-peer fundraising tables: supporters' pages, teams, one-time links, sessions, and
which fundraiser brought each donation.

A fundraiser raises nothing themselves: every gift is an ordinary donation to the campaign
(the verified nonprofit receives it). `fundraiser_donations` only says, once and at checkout,
whose page it came through, so the fundraiser, their team and the campaign all count it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, created_at_column, str_enum, updated_at_column, uuid_pk


class FundraiserStatus(StrEnum):
    PENDING_EMAIL = "pending_email"
    """Created; waits for the one-time link in the confirmation email."""
    PENDING_APPROVAL = "pending_approval"
    """Email confirmed; waits for the nonprofit (approval required, or the keyword screen flagged it)."""
    LIVE = "live"
    """Public: its page, leaderboards and the checkout's `fundraiser` field accept it."""
    HIDDEN = "hidden"
    """Taken down by the nonprofit or a moderator; they may put it back (unhide)."""
    ENDED = "ended"
    """Closed for good: no page, no new gifts; gifts it brought still count for the campaign."""


class LinkPurpose(StrEnum):
    CONFIRM = "confirm"
    """Confirms the email address a new page was started with."""
    SIGN_IN = "sign_in"
    """Opens a fundraiser session for an address's pages in one campaign."""


class Fundraiser(Base):
    __tablename__ = "fundraisers"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "slug", name="uq_fundraisers_campaign_slug"),
        sa.CheckConstraint("goal_minor IS NULL OR goal_minor > 0", name="goal_positive"),
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
        sa.CheckConstraint("language IN ('nl', 'en')", name="language_known"),
        sa.CheckConstraint(
            "photo_key IS NULL OR (photo_alt IS NOT NULL AND photo_height > 0 AND photo_widths IS NOT NULL)",
            name="photo_complete",
        ),
        sa.Index("ix_fundraisers_campaign_status", "campaign_id", "status"),
        sa.Index("ix_fundraisers_nonprofit_created", "nonprofit_id", "created_at"),
        sa.Index("ix_fundraisers_campaign_email", "campaign_id", "email"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    campaign_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("campaigns.id"))
    nonprofit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("nonprofits.id"))
    """The campaign's nonprofit, copied so tenant queries need no join."""
    slug: Mapped[str] = mapped_column(sa.String(80))
    name: Mapped[str] = mapped_column(sa.String(100))
    """The supporter's display name."""
    email: Mapped[str] = mapped_column(sa.String(320))
    """Trimmed and lowercased; never shown publicly."""
    language: Mapped[str] = mapped_column(sa.String(2))
    """'nl' or 'en': the language of the fundraiser's emails."""
    title: Mapped[str] = mapped_column(sa.String(120))
    story_markdown: Mapped[str] = mapped_column(sa.Text())
    story_html: Mapped[str] = mapped_column(sa.Text())
    """Rendered and sanitised like a campaign story (campaigns.campaign.story)."""
    goal_minor: Mapped[int | None] = mapped_column(sa.BigInteger())
    currency: Mapped[str] = mapped_column(sa.String(3))
    """The campaign's currency."""
    photo_key: Mapped[str | None] = mapped_column(sa.String(64))
    """SHA-256 of the uploaded photo; files `photos/{key}-{width}.{webp|jpg}` (fundraising.photos)."""
    photo_alt: Mapped[str | None] = mapped_column(sa.String(300))
    photo_height: Mapped[int | None] = mapped_column(sa.Integer())
    photo_widths: Mapped[list[int] | None] = mapped_column(sa.JSON())
    team_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("fundraiser_teams.id"), index=True)
    status: Mapped[FundraiserStatus] = mapped_column(
        str_enum(FundraiserStatus, "fundraiser_status"), default=FundraiserStatus.PENDING_EMAIL
    )
    screen_flags: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON(), default=list)
    """What the keyword screen found in name, title or story (term, category, sentence); a
    flagged page waits for the nonprofit even when the campaign does not ask for approval."""
    share_link_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("share_links.id"), unique=True)
    """The fundraiser's own share link (kind `fundraiser`): the referrer of every gift through the page."""
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_from: Mapped[FundraiserStatus | None] = mapped_column(
        str_enum(FundraiserStatus, "fundraiser_hidden_from")
    )
    """The status a hidden page had when it was hidden: unhiding returns it there (a page hidden
    before its approval never goes live by being shown again)."""
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    content_revision: Mapped[int] = mapped_column(sa.Integer(), default=0, server_default="0")
    """Counts changes to what the nonprofit approves (title, story, photo, a new team's name):
    an approval names the revision the reviewer saw, so a later edit is never approved unseen."""

    def photo_file(self, width: int, extension: str) -> str:
        assert self.photo_key is not None
        return photo_file_name(self.photo_key, width, extension)

    @property
    def photo_width(self) -> int | None:
        return self.photo_widths[-1] if self.photo_key and self.photo_widths else None


def photo_file_name(key: str, width: int, extension: str) -> str:
    """The media name of one variant of a fundraiser's photo."""
    return f"photos/{key}-{width}.{extension}"


class FundraiserTeam(Base):
    __tablename__ = "fundraiser_teams"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "slug", name="uq_fundraiser_teams_campaign_slug"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    campaign_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("campaigns.id"))
    nonprofit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("nonprofits.id"), index=True)
    slug: Mapped[str] = mapped_column(sa.String(80))
    name: Mapped[str] = mapped_column(sa.String(100))
    created_by_fundraiser_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid())
    """The fundraiser who started the team (no foreign key: fundraisers point at teams)."""
    created_at: Mapped[datetime] = created_at_column()


class FundraiserLink(Base):
    """A one-time link emailed to a fundraiser: only the token's SHA-256 is stored, single use."""

    __tablename__ = "fundraiser_links"
    __table_args__ = (sa.CheckConstraint("email = lower(email)", name="email_lowercase"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    purpose: Mapped[LinkPurpose] = mapped_column(str_enum(LinkPurpose, "fundraiser_link_purpose"))
    token_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    campaign_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("campaigns.id"))
    email: Mapped[str] = mapped_column(sa.String(320))
    fundraiser_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("fundraisers.id"), index=True)
    """The page a confirmation link confirms; None for a sign-in link (it opens every page of the
    address in the campaign)."""
    language: Mapped[str] = mapped_column(sa.String(2))
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class FundraiserSession(Base):
    """A browser signed in to manage an address's pages in one campaign (cookie holds the token)."""

    __tablename__ = "fundraiser_sessions"
    __table_args__ = (sa.CheckConstraint("email = lower(email)", name="email_lowercase"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    token_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    campaign_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("campaigns.id"))
    email: Mapped[str] = mapped_column(sa.String(320))
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class FundraiserDonation(Base):
    """Which fundraiser (and team, at the time of giving) a donation came through; written at
    checkout in the transaction of the pending donation, never changed afterwards."""

    __tablename__ = "fundraiser_donations"
    __table_args__ = (sa.Index("ix_fundraiser_donations_campaign", "campaign_id", "fundraiser_id"),)

    donation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("donations.id"), primary_key=True)
    fundraiser_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("fundraisers.id"), index=True)
    team_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("fundraiser_teams.id"), index=True)
    campaign_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("campaigns.id"))
    created_at: Mapped[datetime] = created_at_column()
