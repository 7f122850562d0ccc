"""Nonprofits, their members, invitations and API keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, created_at_column, str_enum, uuid_pk


class NonprofitStatus(StrEnum):
    PENDING_VERIFICATION = "pending_verification"
    """Signed up; may draft campaigns but not submit them."""
    VERIFIED = "verified"
    """An admin checked the registration; campaigns can go to review."""
    REJECTED = "rejected"
    """An admin refused verification; the reason is shown to the nonprofit."""


class MemberRole(StrEnum):
    OWNER = "owner"
    """Everything, including members and API keys."""
    EDITOR = "editor"
    """Creates, edits and submits campaigns."""
    VIEWER = "viewer"
    """Reads only."""


class Nonprofit(Base):
    __tablename__ = "nonprofits"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(sa.String(200))
    contact_email: Mapped[str] = mapped_column(sa.String(320))
    country: Mapped[str] = mapped_column(sa.String(2))
    registration_number: Mapped[str] = mapped_column(sa.String(100))
    website: Mapped[str] = mapped_column(sa.String(500))
    status: Mapped[NonprofitStatus] = mapped_column(
        str_enum(NonprofitStatus, "nonprofit_status"),
        default=NonprofitStatus.PENDING_VERIFICATION,
    )
    status_reason: Mapped[str | None] = mapped_column(sa.Text())
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()
    # Stripe Connect (Express): kept current by account.updated webhooks.
    stripe_account_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    charges_enabled: Mapped[bool] = mapped_column(sa.Boolean(), default=False, server_default=sa.false())
    payouts_enabled: Mapped[bool] = mapped_column(sa.Boolean(), default=False, server_default=sa.false())
    details_submitted: Mapped[bool] = mapped_column(sa.Boolean(), default=False, server_default=sa.false())
    requirements_due: Mapped[list[str]] = mapped_column(sa.JSON(), default=list, server_default="[]")


class Member(Base):
    __tablename__ = "members"

    id: Mapped[uuid.UUID] = uuid_pk()
    nonprofit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("nonprofits.id"), index=True)
    # One login identity belongs to one organisation, so email alone finds the account.
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    role: Mapped[MemberRole] = mapped_column(str_enum(MemberRole, "member_role"))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = created_at_column()
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MemberInvite(Base):
    __tablename__ = "member_invites"

    id: Mapped[uuid.UUID] = uuid_pk()
    nonprofit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("nonprofits.id"), index=True)
    email: Mapped[str] = mapped_column(sa.String(320))
    role: Mapped[MemberRole] = mapped_column(str_enum(MemberRole, "invite_role"))
    token_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    invited_by_member_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("members.id"))
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = uuid_pk()
    nonprofit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("nonprofits.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    prefix: Mapped[str] = mapped_column(sa.String(32), unique=True)
    # SHA-256 of a 256-bit random secret: the plaintext is shown once and never stored.
    digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    created_by_member_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("members.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
