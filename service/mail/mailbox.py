"""The sandbox mailbox's queries and how a captured message reads (no web here)."""

from __future__ import annotations

import email.policy
import uuid
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from service.mail.models import MailboxMessage

PAGE = 200


@dataclass(frozen=True)
class Summary:
    id: uuid.UUID
    recipient: str
    subject: str
    captured_at: datetime


@dataclass(frozen=True)
class AttachmentPart:
    index: int
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class Opened:
    summary: Summary
    sender: str
    language: str | None
    text: str | None
    html: str | None
    headers: list[tuple[str, str]]
    attachments: list[AttachmentPart]


async def list_messages(session: AsyncSession, *, limit: int = PAGE) -> list[Summary]:
    rows = await session.execute(
        sa.select(
            MailboxMessage.id, MailboxMessage.recipient, MailboxMessage.subject, MailboxMessage.captured_at
        )
        .order_by(MailboxMessage.captured_at.desc(), MailboxMessage.id.desc())
        .limit(limit)
    )
    return [Summary(*row) for row in rows]


async def raw_message(session: AsyncSession, message_id: uuid.UUID) -> tuple[Summary, bytes] | None:
    row = await session.get(MailboxMessage, message_id)
    if row is None:
        return None
    return Summary(row.id, row.recipient, row.subject, row.captured_at), row.raw


async def clear(session: AsyncSession) -> int:
    result = await session.execute(sa.delete(MailboxMessage))
    return int(getattr(result, "rowcount", 0) or 0)


def parse(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=email.policy.default)


def open_message(summary: Summary, raw: bytes) -> Opened:
    message = parse(raw)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return Opened(
        summary=summary,
        sender=str(message.get("From", "")),
        language=str(message["Content-Language"]) if message["Content-Language"] else None,
        text=_content(text),
        html=_content(html),
        headers=[(name, str(value)) for name, value in message.items()],
        attachments=[
            AttachmentPart(
                i, part.get_filename() or f"attachment-{i + 1}", part.get_content_type(), len(_bytes(part))
            )
            for i, part in enumerate(message.iter_attachments())
        ],
    )


def attachment(raw: bytes, index: int) -> tuple[str, str, bytes] | None:
    parts = list(parse(raw).iter_attachments())
    if not 0 <= index < len(parts):
        return None
    part = parts[index]
    return part.get_filename() or f"attachment-{index + 1}", part.get_content_type(), _bytes(part)


def _content(part: object) -> str | None:
    if not isinstance(part, EmailMessage):
        return None
    content = part.get_content()
    return content if isinstance(content, str) else None


def _bytes(part: EmailMessage) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""
