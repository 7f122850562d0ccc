"""How long the outbox keeps what it sent: the key forever, the words for RETAIN_BODIES.

A sent (or given-up) message's row stays, because its UNIQUE key is what keeps a cause
replayed months later (a late webhook, a re-run job) from sending again. Its subject,
bodies and attachments are personal data nobody needs once the message left: after
RETAIN_BODIES they are emptied (the worker job `purge_mail_bodies`, hourly). Queued rows are
never touched.

Messages carrying a one-time link (a password reset, a donor's sign-in, an invitation, a
fundraiser's email confirmation or sign-in: the database keeps only the link token's SHA-256)
must not keep the link in the outbox either: their text and HTML are replaced by
SENSITIVE_REMOVED the moment they are recorded sent or given up (service.mail.sender.record).
They are recognised by their outbox key, which starts with one of SENSITIVE_KEY_PREFIXES (no
column says so); a new email with a one-time link gets a key with one of these prefixes, or a
new prefix here.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from service.db import Database
from service.mail.models import MailAttachment, MailMessage, MailStatus
from service.unit_of_work import UnitOfWork
from service.worker import Job

RETAIN_BODIES = timedelta(days=30)
BATCH = 500
PURGED = "(removed after 30 days)"
SENSITIVE_KEY_PREFIXES = (
    "password_reset:",
    "portal:sign-in:",
    "invite:",
    # A fundraiser's email confirmation and sign-in links (campaigns.fundraising.mail).
    "fundraiser:confirm:",
    "fundraiser:sign-in:",
)
SENSITIVE_REMOVED = "(removed once sent: it held a one-time link)"


def is_sensitive(key: str) -> bool:
    """Whether the message with this outbox key carries a one-time link."""
    return key.startswith(SENSITIVE_KEY_PREFIXES)


async def purge_old_bodies(session: UnitOfWork, *, limit: int = BATCH) -> int:
    cutoff = session.now() - RETAIN_BODIES
    ids = (
        await session.scalars(
            sa.select(MailMessage.id)
            .where(
                MailMessage.status.in_([MailStatus.SENT, MailStatus.FAILED]),
                MailMessage.updated_at < cutoff,
                MailMessage.html != "",
            )
            .limit(limit)
        )
    ).all()
    if not ids:
        return 0
    await session.execute(sa.delete(MailAttachment).where(MailAttachment.message_id.in_(ids)))
    await session.execute(
        sa.update(MailMessage)
        .where(MailMessage.id.in_(ids))
        .values(subject=PURGED, text="", html="", updated_at=MailMessage.updated_at)
    )
    return len(ids)


async def purge(database: Database) -> int:
    return await database.run("mail:purge", purge_old_bodies)


JOB = Job("purge_mail_bodies", purge, timedelta(hours=1))
