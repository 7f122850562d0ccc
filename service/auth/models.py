"""Platform admin accounts (the nonprofit side lives in campaigns.nonprofits)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service.audit import ActorType
from service.db import Base, UTCDateTime, created_at_column, str_enum, uuid_pk


class AdminRole(StrEnum):
    REVIEWER = "reviewer"
    """Verifies nonprofits, moderates campaigns, reviews matches."""
    FINANCE = "finance"
    """Runs matching programs, payouts and the ledger."""
    SUPERADMIN = "superadmin"
    """Everything, including the other roles' work."""


class Admin(Base):
    __tablename__ = "admins"

    id: Mapped[uuid.UUID] = uuid_pk()
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    role: Mapped[AdminRole] = mapped_column(str_enum(AdminRole, "admin_role"))
    token_prefix: Mapped[str] = mapped_column(sa.String(32), unique=True)
    token_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = created_at_column()
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # An admin is an audit.AuditActor: the log names them by id and email.
    @property
    def actor_type(self) -> ActorType:
        return ActorType.ADMIN

    @property
    def actor_id(self) -> str:
        return str(self.id)

    @property
    def label(self) -> str:
        return self.email


class SessionKind(StrEnum):
    MEMBER = "member"
    """A nonprofit member signed in to the dashboard."""
    ADMIN = "admin"
    """A platform admin signed in to the console."""


class AuthSession(Base):
    """A browser's sign-in, so that signing out ends it on the server, not only in the cookie.

    The cookie carries a random token; only its SHA-256 is stored, so the table cannot be used
    to ride anyone's session. A row is revoked, never deleted, until it is long expired.
    """

    __tablename__ = "auth_sessions"
    __table_args__ = (sa.Index("ix_auth_sessions_subject", "kind", "subject_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    token_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[SessionKind] = mapped_column(str_enum(SessionKind, "session_kind"))
    subject_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid())
    created_at: Mapped[datetime] = created_at_column()
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
