"""The worker job `send_mail`: due outbox rows are claimed, sent outside any transaction, recorded.

1. Claim (one transaction): up to BATCH rows that are queued, or sending with an expired lease
   (a sender that crashed), due by the clock, `FOR UPDATE SKIP LOCKED` so any number of
   workers share the queue; each is marked `sending`, its attempt counted and leased for LEASE.
2. Send (no transaction open): build each message (service.mail.message) and hand the batch
   to the transport: SMTP when GOODLOOP_SMTP_URL is set, else development's sandbox mailbox.
3. Record (one transaction): accepted rows are `sent`; a permanent refusal (5xx), a message
   that cannot be built or the last allowed attempt is `failed`; a message the transport never
   started (the batch's time ran out) is due again at once, its attempt not counted; anything
   else is queued again after an exponential backoff (1 minute, doubling, at most 6 hours) on
   the clock. A row is only recorded while it still carries this claim's attempt, so a sender
   whose lease ran out cannot overwrite a newer one. A message with a one-time link loses its
   bodies as soon as it is sent or given up (service.mail.retention.is_sensitive).

A server that accepted a message whose result was never recorded (a crash between 2 and 3)
gets it again after the lease, with the same Message-ID. Logs name the outbox key, the
attempt and the server's answer; never a body or a password.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from prometheus_client import Counter, Gauge, Histogram

from service.db import Database, for_no_key_update
from service.logging import get_logger
from service.mail import retention
from service.mail.message import Outgoing, OutgoingAttachment, build_message
from service.mail.models import MailAttachment, MailMessage, MailStatus
from service.mail.smtp_url import parse_smtp_url
from service.mail.transports import (
    SEND_BUDGET_S,
    SMTP_TIMEOUT_S,
    Accepted,
    Addressed,
    MailboxTransport,
    Outcome,
    Refused,
    SmtpTransport,
    Transport,
)
from service.settings import Settings, load_settings
from service.unit_of_work import UnitOfWork
from service.worker import Job

log = get_logger("goodloop.mail")

BATCH = 50
LEASE = timedelta(minutes=5)
"""How long a claimed row is left alone. The SMTP transport starts no message after
SEND_BUDGET_S and hands the rest back unsent, so the conversation (the last message and QUIT,
each command at most SMTP_TIMEOUT_S) ends inside it whatever the batch's size."""
assert LEASE.total_seconds() > SEND_BUDGET_S + 5 * SMTP_TIMEOUT_S
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=6)
MAX_ATTEMPTS = 10
"""About 17 hours of trying (1+2+4+...+256 minutes, then 6-hour steps) before giving up."""

MAIL_SENT = Counter("goodloop_mail_sent_total", "Emails accepted by the transport", ["transport"])
MAIL_FAILED = Counter(
    "goodloop_mail_failed_total", "Email attempts refused, by whether they will be tried again", ["outcome"]
)
MAIL_QUEUE_DELAY = Histogram(
    "goodloop_mail_queue_delay_seconds",
    "From enqueue to acceptance by the transport",
    buckets=(1, 5, 15, 60, 300, 900, 3600, 6 * 3600, 24 * 3600),
)
MAIL_OLDEST_DUE = Gauge(
    "goodloop_mail_oldest_due_age_seconds", "Age of the oldest message due to be sent, at the last claim"
)


def backoff(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failed attempt."""
    return min(FIRST_BACKOFF * (1 << min(max(attempts - 1, 0), 16)), MAX_BACKOFF)


def transport_for(settings: Settings, database: Database) -> Transport:
    if settings.smtp_url is not None:
        return SmtpTransport(parse_smtp_url(settings.smtp_url, production=settings.is_production))
    if settings.is_production:
        # load_settings refuses this already; a Settings built by hand must not capture either.
        raise RuntimeError("production sends mail through GOODLOOP_SMTP_URL, never the sandbox mailbox")
    return MailboxTransport(database)


async def send_due(database: Database, transport: Transport, *, mail_from: str, limit: int = BATCH) -> int:
    """One pass: claim, send, record. Returns how many rows were attempted."""
    claimed = await database.run("mail:claim", lambda uow: claim_due(uow, limit=limit))
    if not claimed:
        return 0
    date = database.clock.now()
    built: list[Addressed | Refused] = [_build(o, mail_from=mail_from, date=date) for o in claimed]
    batch = [b for b in built if isinstance(b, Addressed)]
    delivered = iter(await transport.deliver(batch))
    outcomes = [next(delivered) if isinstance(b, Addressed) else b for b in built]
    message_ids = [str(b.message["Message-ID"]) if isinstance(b, Addressed) else "" for b in built]
    await database.run("mail:record", lambda uow: record(uow, claimed, outcomes, message_ids=message_ids))
    for outgoing, outcome in zip(claimed, outcomes, strict=True):
        _log(outgoing, outcome, transport.name)
    return len(claimed)


def _build(outgoing: Outgoing, *, mail_from: str, date: datetime) -> Addressed | Refused:
    """The message, or a permanent refusal when it cannot be built (it never will be)."""
    try:
        return Addressed(outgoing.key, build_message(outgoing, mail_from=mail_from, date=date))
    except Exception as e:  # noqa: BLE001 - any failure to build is this message's alone
        return Refused(permanent=True, reason=f"not built: {type(e).__name__}: {e}"[:500])


async def claim_due(session: UnitOfWork, *, limit: int = BATCH) -> list[Outgoing]:
    now = session.now()
    due = ((MailMessage.status == MailStatus.QUEUED) | (MailMessage.status == MailStatus.SENDING)) & (
        MailMessage.next_attempt_at <= now
    )
    rows = (
        await session.scalars(
            for_no_key_update(
                sa.select(MailMessage)
                .where(due)
                .order_by(MailMessage.next_attempt_at, MailMessage.id)
                .limit(limit),
                skip_locked=True,
            )
        )
    ).all()
    if not rows:
        MAIL_OLDEST_DUE.set(0)
        return []
    MAIL_OLDEST_DUE.set(max((now - min(r.created_at for r in rows)).total_seconds(), 0))
    attachments = await _attachments(session, [r.id for r in rows])
    for row in rows:
        row.status = MailStatus.SENDING
        row.attempts += 1
        row.next_attempt_at = now + LEASE
    await session.flush()
    return [
        Outgoing(
            key=r.key,
            recipient=r.recipient,
            reply_to=r.reply_to,
            subject=r.subject,
            text=r.text,
            html=r.html,
            language=r.language,
            attempts=r.attempts,
            attachments=attachments.get(r.id, ()),
        )
        for r in rows
    ]


async def _attachments(
    session: UnitOfWork, ids: list[object]
) -> dict[object, tuple[OutgoingAttachment, ...]]:
    found: dict[object, list[OutgoingAttachment]] = {}
    rows = await session.scalars(
        sa.select(MailAttachment)
        .where(MailAttachment.message_id.in_(ids))
        .order_by(MailAttachment.message_id, MailAttachment.position)
    )
    for a in rows:
        found.setdefault(a.message_id, []).append(OutgoingAttachment(a.filename, a.content_type, a.content))
    return {k: tuple(v) for k, v in found.items()}


async def record(
    session: UnitOfWork,
    claimed: Sequence[Outgoing],
    outcomes: Sequence[Outcome],
    *,
    message_ids: Sequence[str],
) -> None:
    now = session.now()
    for outgoing, outcome, message_id in zip(claimed, outcomes, message_ids, strict=True):
        mine = (
            (MailMessage.key == outgoing.key)
            & (MailMessage.status == MailStatus.SENDING)
            & (MailMessage.attempts == outgoing.attempts)
        )
        if isinstance(outcome, Accepted):
            values: dict[str, object] = {
                "status": MailStatus.SENT,
                "sent_at": now,
                "message_id": message_id,
                "last_error": None,
            }
        elif not outcome.attempted:
            # Never handed to the server: due again now, and this claim's attempt not counted.
            values = {
                "status": MailStatus.QUEUED,
                "next_attempt_at": now,
                "attempts": outgoing.attempts - 1,
            }
        elif outcome.permanent or outgoing.attempts >= MAX_ATTEMPTS:
            values = {"status": MailStatus.FAILED, "last_error": outcome.reason}
        else:
            values = {
                "status": MailStatus.QUEUED,
                "next_attempt_at": now + backoff(outgoing.attempts),
                "last_error": outcome.reason,
            }
        if values["status"] in (MailStatus.SENT, MailStatus.FAILED) and retention.is_sensitive(outgoing.key):
            # Its one-time link has left (or never will): the outbox keeps no copy of it.
            values["text"] = values["html"] = retention.SENSITIVE_REMOVED
        values["updated_at"] = now
        created = await session.scalar(
            sa.update(MailMessage).where(mine).values(**values).returning(MailMessage.created_at)
        )
        if created is not None and isinstance(outcome, Accepted):
            session.after_commit(
                functools.partial(MAIL_QUEUE_DELAY.observe, max((now - created).total_seconds(), 0.0))
            )


def _log(outgoing: Outgoing, outcome: Outcome, transport: str) -> None:
    if isinstance(outcome, Accepted):
        MAIL_SENT.labels(transport).inc()
        log.info("mail sent", key=outgoing.key, attempt=outgoing.attempts, transport=transport)
        return
    if not outcome.attempted:
        log.info("mail postponed", key=outgoing.key, reason=outcome.reason, transport=transport)
        return
    final = outcome.permanent or outgoing.attempts >= MAX_ATTEMPTS
    MAIL_FAILED.labels("failed" if final else "retry").inc()
    log.warning(
        "mail refused" if final else "mail deferred",
        key=outgoing.key,
        attempt=outgoing.attempts,
        reason=outcome.reason,
        transport=transport,
    )


def job(settings: Settings | None = None) -> Job:
    """The worker job; without settings (`goodloop worker`), they are read from the environment."""
    chosen: list[Settings] = [settings] if settings is not None else []
    transports: dict[int, Transport] = {}

    async def send_mail(database: Database) -> int:
        if not chosen:
            chosen.append(load_settings())
        transport = transports.get(id(database))
        if transport is None:
            transport = transports[id(database)] = transport_for(chosen[0], database)
        return await send_due(database, transport, mail_from=chosen[0].mail_from)

    return Job("send_mail", send_mail, timedelta(seconds=2))


def jobs(settings: Settings | None = None) -> tuple[Job, ...]:
    """The mail core's worker jobs: sending, and emptying old bodies (service.mail.retention)."""
    return (job(settings), retention.JOB)
