"""The RFC 5322 message an outbox row becomes: the same bytes whether sent or captured.

multipart/alternative (text, then HTML: clients show the last part they can) inside
multipart/mixed when there are attachments. The Message-ID is derived from the outbox key, so
a message sent twice (a sender that crashed after the server accepted it) carries the same id
and receiving systems can tell it is one message. Date comes from the process's clock.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from service.mail.smtp_url import sender_domain


@dataclass(frozen=True)
class OutgoingAttachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Outgoing:
    """A claimed outbox row, everything the sender needs outside the transaction."""

    key: str
    recipient: str
    reply_to: str | None
    subject: str
    text: str
    html: str
    language: str
    attempts: int
    """Attempts including this one (the claim counted it)."""
    attachments: tuple[OutgoingAttachment, ...] = ()


def message_id_for(key: str, mail_from: str) -> str:
    """`<hash of the outbox key @ the sender's domain>`: the same key, the same Message-ID."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"<{digest}@{sender_domain(mail_from)}>"


def build_message(outgoing: Outgoing, *, mail_from: str, date: datetime) -> EmailMessage:
    message = EmailMessage(policy=SMTP)
    message["From"] = mail_from
    message["To"] = outgoing.recipient
    if outgoing.reply_to:
        message["Reply-To"] = outgoing.reply_to
    message["Subject"] = outgoing.subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id_for(outgoing.key, mail_from)
    # RFC 3834: machine-sent; out-of-office replies should not answer it.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(outgoing.text, subtype="plain", charset="utf-8")
    message.add_alternative(outgoing.html, subtype="html", charset="utf-8")
    for attachment in outgoing.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    # Last: making the message multipart moves every Content-* header into the first part.
    message["Content-Language"] = outgoing.language
    return message


def as_bytes(message: EmailMessage) -> bytes:
    """The exact bytes on the wire (CRLF line ends)."""
    return message.as_bytes(policy=SMTP)
