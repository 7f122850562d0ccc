"""What members asked to hear, the daily digests already made, and password reset links."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, created_at_column, str_enum, updated_at_column, uuid_pk


class GiftEmails(StrEnum):
    """How a member hears about new gifts."""

    EACH = "each"
    """One email per confirmed gift, as it arrives."""
    DAILY = "daily"
    """One email the morning after a day with gifts (none after a day without)."""
    NONE = "none"
    """No gift emails; the dashboard still shows everything."""


class MemberNotificationSettings(Base):
    """A member's own choices. No row means the defaults (campaigns.notifications.preferences):
    the daily digest, payout and match emails on, the language of the organisation's country."""

    __tablename__ = "member_notification_settings"
    __table_args__ = (sa.CheckConstraint("language IN ('nl', 'en')", name="language_known"),)

    member_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("members.id"), primary_key=True)
    gift_emails: Mapped[GiftEmails] = mapped_column(str_enum(GiftEmails, "gift_emails"))
    money_emails: Mapped[bool] = mapped_column(sa.Boolean())
    """Payouts and match decisions (approved, rejected, voided)."""
    language: Mapped[str] = mapped_column(sa.String(2))
    updated_at: Mapped[datetime] = updated_at_column()


class MemberDigest(Base):
    """One member's digest of one day, made once: the row exists even when the day had no gifts
    (then no email goes out), so the job never looks at that day again."""

    __tablename__ = "member_digests"
    __table_args__ = (sa.CheckConstraint("gift_count >= 0", name="gift_count_not_negative"),)

    member_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("members.id"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date(), primary_key=True)
    """The day in the organisation's time zone."""
    gift_count: Mapped[int] = mapped_column(sa.Integer())
    created_at: Mapped[datetime] = created_at_column()


class ResetAccount(StrEnum):
    MEMBER = "member"
    """A nonprofit member (dashboard)."""
    ADMIN = "admin"
    """A platform admin (console)."""


class PasswordReset(Base):
    """A one-time link to set a new password. Only the token's SHA-256 is stored (256 random
    bits, so a fast hash is enough); the link works once, until `expires_at`."""

    __tablename__ = "password_resets"
    __table_args__ = (sa.Index("ix_password_resets_subject", "account", "subject_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    account: Mapped[ResetAccount] = mapped_column(str_enum(ResetAccount, "password_reset_account"))
    subject_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid())
    """The member's or the admin's id (two tables, so no foreign key)."""
    token_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """Set when the link set a password, or when another link of the same person did."""
