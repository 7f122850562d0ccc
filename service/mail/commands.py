"""`goodloop mail test --to ADDRESS`: proves GOODLOOP_SMTP_URL and GOODLOOP_MAIL_FROM work.

It queues the sample email (service/templates/mailbox/email/sample.*) through the outbox like
any other and runs one sending pass at once, so the operator reads the server's answer
instead of waiting for the worker. A deferred message stays queued: the worker retries it.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from service.db import Database
from service.mail import outbox
from service.mail.compose import compose
from service.mail.models import MailMessage, MailStatus
from service.mail.sender import send_due, transport_for
from service.settings import Settings


async def send_test(database: Database, settings: Settings, *, to: str, language: str) -> tuple[bool, str]:
    """(sent, what happened) for one sample message to `to`."""
    key = f"mail-test:{uuid.uuid4()}"
    today = database.clock.now().date()
    rendered = compose(
        "mailbox",
        "sample",
        language=language,
        name=to.partition("@")[0],
        amount_minor=2500,
        currency="eur",
        day=today,
    )
    async with database.transaction() as session:
        await outbox.enqueue(session, key=key, email=rendered.email(to=to))
    await send_due(database, transport_for(settings, database), mail_from=settings.mail_from)
    async with database.transaction() as session:
        row = (await session.scalars(sa.select(MailMessage).where(MailMessage.key == key))).one()
    if row.status is MailStatus.SENT:
        where = "the sandbox mailbox (/_sandbox/mail)" if settings.captures_mail else "the SMTP server"
        return True, f"sent to {to} through {where}: {row.message_id}"
    if row.status is MailStatus.QUEUED and row.last_error is None:
        return False, "queued behind other mail; the worker sends it"
    if row.status is MailStatus.QUEUED:
        return False, f"deferred ({row.last_error}); the worker tries again"
    return False, f"refused ({row.last_error})"
