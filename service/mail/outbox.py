"""The transactional outbox: a message is written in the transaction of the change that causes it.

    from service.mail.outbox import Attachment, Email, enqueue

    # inside the use case that makes the fact true, in its unit of work:
    await enqueue(
        session,
        key=f"receipt:{receipt.id}",            # names the cause; the same cause sends once
        email=Email(to=donor_email, subject=r.subject, text=r.text, html=r.html, language="nl",
                    attachments=(Attachment("receipt-2026-000123.pdf", "application/pdf", pdf),)),
    )

The row commits or rolls back with its cause: a transaction that raises sends nothing. Keys
are UNIQUE: `enqueue` is an INSERT ... ON CONFLICT (key) DO NOTHING and answers False when the
key was already enqueued, so a replayed webhook or a retried unit of work sends nothing new.
The worker job `send_mail` (service.mail.sender) sends due rows outside any transaction and
derives the Message-ID from the key. Render subject, text and html with service.mail.compose.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from service.db import insert_for
from service.i18n import LANGUAGES
from service.mail.models import MailAttachment, MailMessage, MailStatus
from service.unit_of_work import UnitOfWork

MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    """A MIME type such as `application/pdf`."""
    content: bytes


@dataclass(frozen=True)
class Email:
    to: str
    """One address, `donor@example.org` (a display name is not needed)."""
    subject: str
    text: str
    html: str
    language: str
    """`nl` or `en` (service.i18n.LANGUAGES): the Content-Language the message carries."""
    attachments: tuple[Attachment, ...] = ()
    reply_to: str | None = None


async def enqueue(session: UnitOfWork, *, key: str, email: Email) -> bool:
    """Write `email` to the outbox in this unit of work; False when `key` was already enqueued."""
    _check(key, email)
    now = session.now()
    message_id = uuid.uuid4()
    inserted = await session.scalar(
        insert_for(session, MailMessage)
        .values(
            id=message_id,
            key=key,
            recipient=email.to,
            reply_to=email.reply_to,
            subject=email.subject,
            text=email.text,
            html=email.html,
            language=email.language,
            status=MailStatus.QUEUED,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(MailMessage.id)
    )
    if inserted is None:
        return False
    if email.attachments:
        await session.execute(
            sa.insert(MailAttachment),
            [
                {
                    "id": uuid.uuid4(),
                    "message_id": message_id,
                    "position": position,
                    "filename": a.filename,
                    "content_type": a.content_type,
                    "content": a.content,
                }
                for position, a in enumerate(email.attachments)
            ],
        )
    return True


def _check(key: str, email: Email) -> None:
    # Programming errors, caught in tests: a message that cannot be sent must not be queued.
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"an outbox key has 1 to {MAX_KEY_LENGTH} characters")
    if email.language not in LANGUAGES:
        raise ValueError(f"unknown language {email.language!r}; one of {LANGUAGES}")
    if "@" not in email.to or any(c in email.to for c in "\r\n,;<> "):
        raise ValueError("Email.to is one plain address")
    if "\r" in email.subject or "\n" in email.subject:
        raise ValueError("a subject is one line")
    for a in email.attachments:
        if "/" not in a.content_type or not a.filename or any(c in a.filename for c in '/\\"\r\n'):
            raise ValueError(f"bad attachment {a.filename!r} ({a.content_type})")
