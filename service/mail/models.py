"""Tables of the mail outbox, its attachments and the sandbox mailbox.

`mail_outbox` holds one row per message a change caused, written in that change's transaction
(service.mail.outbox.enqueue) and keyed by the cause (`key`, UNIQUE): a replayed cause finds
its row and enqueues nothing. The worker claims due rows, sends them outside any transaction
and records the result (service.mail.sender). `mailbox_messages` is development's capture:
with no SMTP URL the sender stores the exact bytes it would have sent, shown at /_sandbox/mail.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, created_at_column, str_enum, updated_at_column, uuid_pk


class MailStatus(StrEnum):
    QUEUED = "queued"
    """Waiting for the worker (due at next_attempt_at); also after a failure that may pass."""
    SENDING = "sending"
    """Claimed by a sender; if it crashed, the row is due again when the lease (next_attempt_at) ends."""
    SENT = "sent"
    """The SMTP server (or the sandbox mailbox) accepted it."""
    FAILED = "failed"
    """Refused for good (a 5xx answer) or out of attempts: never sent."""


class MailMessage(Base):
    __tablename__ = "mail_outbox"
    __table_args__ = (
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.CheckConstraint("status <> 'sent' OR sent_at IS NOT NULL", name="sent_has_time"),
        sa.Index("ix_mail_outbox_status_next_attempt", "status", "next_attempt_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    """What caused the message (e.g. `receipt:<donation id>`): the same cause, the same row."""
    recipient: Mapped[str] = mapped_column(sa.String(320))
    reply_to: Mapped[str | None] = mapped_column(sa.String(320))
    subject: Mapped[str] = mapped_column(sa.String(500))
    text: Mapped[str] = mapped_column(sa.Text())
    html: Mapped[str] = mapped_column(sa.Text())
    language: Mapped[str] = mapped_column(sa.String(8))
    status: Mapped[MailStatus] = mapped_column(
        str_enum(MailStatus, "mail_status"), default=MailStatus.QUEUED, server_default=MailStatus.QUEUED.value
    )
    attempts: Mapped[int] = mapped_column(sa.Integer(), default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    message_id: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class MailAttachment(Base):
    __tablename__ = "mail_attachments"
    __table_args__ = (sa.UniqueConstraint("message_id", "position"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    message_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("mail_outbox.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(sa.Integer())
    filename: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(127))
    content: Mapped[bytes] = mapped_column(sa.LargeBinary())


class MailboxMessage(Base):
    """A message the development sender captured instead of sending (the sandbox mailbox)."""

    __tablename__ = "mailbox_messages"
    __table_args__ = (sa.Index("ix_mailbox_messages_captured_at", "captured_at"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    outbox_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    """The outbox row's key: a sender that crashed after capturing captures nothing twice."""
    recipient: Mapped[str] = mapped_column(sa.String(320))
    subject: Mapped[str] = mapped_column(sa.String(500))
    raw: Mapped[bytes] = mapped_column(sa.LargeBinary())
    """The exact RFC 5322 bytes the SMTP sender would have sent."""
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime())
