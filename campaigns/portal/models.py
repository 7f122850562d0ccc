"""The donor portal's tables: one-time sign-in links, donor sessions, and the changes a donor
asked Stripe to make to a recurring gift (shown as pending until Stripe's webhook lands).

A donor has no account: their identity is the email address a link was sent to (lowercased),
and every token is stored only as its SHA-256 (256 bits of entropy, so a fast hash suffices).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, created_at_column, str_enum, uuid_pk


class DonorSignInLink(Base):
    """A link emailed to a donor: single use (used_at), valid until expires_at."""

    __tablename__ = "donor_sign_in_links"
    __table_args__ = (sa.CheckConstraint("email = lower(email)", name="email_lowercase"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    token_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    email: Mapped[str] = mapped_column(sa.String(320))
    language: Mapped[str] = mapped_column(sa.String(2))
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DonorSession(Base):
    """A browser signed in to the portal; signing out revokes it, so a copied cookie opens nothing."""

    __tablename__ = "donor_sessions"
    __table_args__ = (sa.CheckConstraint("email = lower(email)", name="email_lowercase"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    token_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    email: Mapped[str] = mapped_column(sa.String(320))
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ChangeKind(StrEnum):
    AMOUNT = "amount"
    """A new amount per installment."""
    CANCEL = "cancel"
    """End the recurring gift."""


class RecurringChange(Base):
    """A change a donor asked for. Its id makes the Stripe idempotency key
    (`recurring:{gift}:{kind}:{id}`); our books change only when Stripe's webhook arrives, so
    until then the portal shows the change as pending (sent_at set) or failed (failed_at set)."""

    __tablename__ = "donor_recurring_changes"
    __table_args__ = (
        sa.CheckConstraint(
            "(kind = 'amount') = (amount_minor IS NOT NULL AND amount_minor > 0)", name="amount_for_amount"
        ),
        sa.Index("ix_donor_recurring_changes_gift", "recurring_gift_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    recurring_gift_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid())
    email: Mapped[str] = mapped_column(sa.String(320))
    kind: Mapped[ChangeKind] = mapped_column(str_enum(ChangeKind, "donor_recurring_change_kind"))
    amount_minor: Mapped[int | None] = mapped_column(sa.BigInteger())
    created_at: Mapped[datetime] = created_at_column()
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
