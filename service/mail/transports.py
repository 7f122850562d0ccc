"""Where a built message goes: an SMTP server (aiosmtplib), or development's sandbox mailbox.

Both take a batch and answer, per message, whether it was accepted or why not. A transport
never raises for one message's refusal: the sender records each answer. SMTP answers 5xx
are permanent (the address does not exist, the message is refused); 4xx answers, lost
connections, timeouts and refused logins (the operator fixes the password, the mail waits)
are worth another try.
"""

from __future__ import annotations

import ssl
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib

from service.db import Database, insert_for
from service.mail.message import as_bytes
from service.mail.models import MailboxMessage
from service.mail.smtp_url import SmtpTarget

SMTP_TIMEOUT_S = 30.0
"""Per SMTP command (aiosmtplib): one message is MAIL, RCPT, DATA and its body, up to 4 of them."""
SEND_BUDGET_S = 120.0
"""After this long since a batch's conversation began, no further message of it is started:
the one in flight (at most 4 * SMTP_TIMEOUT_S) and QUIT (one more) still end well inside the
sender's lease (service.mail.sender.LEASE), so no other worker claims a row while it is sent."""


@dataclass(frozen=True)
class Accepted:
    pass


@dataclass(frozen=True)
class Refused:
    permanent: bool
    reason: str
    """For the outbox row and the logs: the server's code and words, never the message."""
    attempted: bool = True
    """False: never handed to the server (the batch's time budget ran out first); the sender
    queues it again at once without counting the attempt."""


NOT_ATTEMPTED = Refused(permanent=False, reason="not attempted: the batch's time ran out", attempted=False)


Outcome = Accepted | Refused


@dataclass(frozen=True)
class Addressed:
    key: str
    message: EmailMessage


class Transport(Protocol):
    name: str

    async def deliver(self, batch: Sequence[Addressed]) -> list[Outcome]:
        """One outcome per message, in order."""
        ...


class SmtpTransport:
    """One connection per batch; a connection lost mid-batch leaves the rest for another try."""

    name = "smtp"

    def __init__(
        self,
        target: SmtpTarget,
        *,
        tls_context: ssl.SSLContext | None = None,
        budget_s: float = SEND_BUDGET_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.target = target
        # None: the system's trusted certificates (tests hand in one that trusts their own).
        self.tls_context = tls_context
        self.budget_s = budget_s
        self.clock = clock

    async def deliver(self, batch: Sequence[Addressed]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        started = self.clock()
        try:
            async with self._client() as client:
                for item in batch:
                    if self.clock() - started >= self.budget_s:
                        # The rest would risk outliving the lease: hand them back unsent.
                        outcomes += [NOT_ATTEMPTED] * (len(batch) - len(outcomes))
                        break
                    outcome = await _send_one(client, item.message)
                    outcomes.append(outcome)
                    if isinstance(outcome, Refused) and not client.is_connected:
                        break
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as e:
            # Connecting, the greeting, STARTTLS or the login failed, or QUIT did: whatever
            # was not answered yet waits for the next run.
            reason = _reason(e)
            outcomes += [Refused(permanent=False, reason=reason)] * (len(batch) - len(outcomes))
        outcomes += [Refused(permanent=False, reason="connection lost")] * (len(batch) - len(outcomes))
        return outcomes

    def _client(self) -> aiosmtplib.SMTP:
        t = self.target
        return aiosmtplib.SMTP(
            hostname=t.host,
            port=t.port,
            username=t.username,
            password=t.password,
            use_tls=t.implicit_tls,
            # None: STARTTLS when the server offers it; True: refuse to go on without it.
            start_tls=None if t.implicit_tls else (True if t.require_starttls else None),
            timeout=SMTP_TIMEOUT_S,
            tls_context=self.tls_context,
        )


async def _send_one(client: aiosmtplib.SMTP, message: EmailMessage) -> Outcome:
    try:
        await client.send_message(message)
    except aiosmtplib.SMTPRecipientsRefused as e:
        codes = [r.code for r in e.recipients]
        return Refused(permanent=all(500 <= c < 600 for c in codes), reason=_reason(e))
    except aiosmtplib.SMTPAuthenticationError as e:
        return Refused(permanent=False, reason=_reason(e))
    except aiosmtplib.SMTPResponseException as e:
        return Refused(permanent=500 <= e.code < 600, reason=_reason(e))
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as e:
        return Refused(permanent=False, reason=_reason(e))
    except Exception as e:  # noqa: BLE001 - recorded as this message's refusal
        # Not the server's answer: the message itself cannot be sent (e.g. it does not encode).
        # Trying again would fail the same way, and raising would leave the batch unrecorded.
        client.close()
        return Refused(permanent=True, reason=_reason(e))
    return Accepted()


def _reason(error: BaseException) -> str:
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return "; ".join(_reason(r) for r in error.recipients)[:500]
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return f"{error.code} {error.message}"[:500]
    return f"{type(error).__name__}: {error}"[:500]


class MailboxTransport:
    """Development without an SMTP URL: store the exact bytes in the sandbox mailbox."""

    name = "mailbox"

    def __init__(self, database: Database) -> None:
        self.database = database

    async def deliver(self, batch: Sequence[Addressed]) -> list[Outcome]:
        async with self.database.transaction() as session:
            for item in batch:
                await session.execute(
                    insert_for(session, MailboxMessage)
                    .values(
                        id=uuid.uuid4(),
                        outbox_key=item.key,
                        recipient=str(item.message["To"]),
                        subject=str(item.message["Subject"]),
                        raw=as_bytes(item.message),
                        captured_at=session.now(),
                    )
                    # A sender that crashed after capturing: the mailbox already has it.
                    .on_conflict_do_nothing(index_elements=["outbox_key"])
                )
        return [Accepted() for _ in batch]
