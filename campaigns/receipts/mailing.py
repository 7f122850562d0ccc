"""The worker job that emails numbered receipts, each with its PDF, through the mail outbox.

A receipt is issued and numbered in the transaction that confirmed, refunded or lost the gift
(campaigns.receipts.issuing); the row is the durable promise of its email. This job reads
receipts not yet emailed, draws their PDFs and emails outside any transaction (drawing takes a
tenth of a second each; nothing is locked meanwhile, and on SQLite no writer waits), then in one
short transaction enqueues each (`service.mail.outbox.enqueue`, key `receipt:{id}`) and marks it
emailed. Two workers that draw the same receipt enqueue it once: the outbox key is UNIQUE and
only the row still unmarked is marked. A receipt that fails to draw (any exception: a missing
font, a template error, a row the PDF library chokes on) is logged once and leaves the batch: this
process retries it after a backoff that doubles from RETRY_FIRST up to RETRY_MAX, and meanwhile
the receipts behind it are sent, so one bad receipt never blocks the job.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from starlette.routing import NoMatchFound

from campaigns.donations.models import Donation
from campaigns.receipts.models import Receipt
from campaigns.receipts.pdf import ReceiptDocument, correction_text, fee_cover_text, receipt_pdf
from campaigns.receipts.service import document_for, pdf_filename
from campaigns.receipts.tax import payment_method_label, tax_id_label, tax_text
from service.db import Database
from service.i18n import format_date, format_money
from service.logging import get_logger
from service.mail import links
from service.mail.compose import compose
from service.mail.outbox import Attachment, Email, enqueue
from service.unit_of_work import UnitOfWork
from service.worker import Job

log = get_logger("goodloop.receipts")

BATCH = 20
RETRY_FIRST = 30.0
RETRY_MAX = 3600.0


@dataclass
class _Failure:
    attempts: int
    retry_at: datetime


# Receipts that failed to draw in this process: id -> when to try again (the database's clock).
_failed: dict[uuid.UUID, _Failure] = {}


def _waiting(now: datetime) -> list[uuid.UUID]:
    return [receipt_id for receipt_id, failure in _failed.items() if failure.retry_at > now]


def _note_failure(receipt_id: uuid.UUID, error: BaseException, now: datetime) -> None:
    failure = _failed.get(receipt_id)
    attempts = 1 if failure is None else failure.attempts + 1
    delay = min(RETRY_FIRST * 2 ** (attempts - 1), RETRY_MAX)
    _failed[receipt_id] = _Failure(attempts, now + timedelta(seconds=delay))
    if failure is None:
        # Logged once per receipt and process; later retries that fail again stay quiet.
        log.error("receipt email could not be drawn", receipt_id=str(receipt_id), error=repr(error))


@dataclass(frozen=True)
class Drawn:
    receipt_id: uuid.UUID
    email: Email


def outbox_key(receipt_id: uuid.UUID) -> str:
    return f"receipt:{receipt_id}"


def _portal_url() -> str | None:
    # A receipt without the portal's link is better than no receipt.
    try:
        return links.url("portal:home")
    except (NoMatchFound, links.LinksNotConfigured):
        return None


def compose_email(receipt: Receipt, doc: ReceiptDocument, pdf: bytes) -> Email:
    lang = doc.language
    rendered = compose(
        "receipts",
        "receipt",
        language=lang,
        doc=doc,
        number=doc.number,
        legal_name=doc.issuer.legal_name,
        amount=format_money(doc.amount_minor, doc.currency, lang),
        original_amount=(
            format_money(doc.original_amount_minor, doc.currency, lang)
            if doc.original_amount_minor is not None
            else None
        ),
        gift_date=format_date(doc.gift_date, lang),
        method=payment_method_label(doc.payment_method, lang),
        tax_id_label=tax_id_label(doc.issuer.scheme, lang),
        tax_text=tax_text(doc.issuer, lang),
        correction=correction_text(doc) if doc.corrected else None,
        fee_cover=fee_cover_text(doc) if doc.fee_cover_minor and not doc.corrected else None,
        portal_url=_portal_url(),
    )
    attachment = Attachment(pdf_filename(receipt), "application/pdf", pdf)
    return rendered.email(to=receipt.donor_email, attachments=(attachment,))


async def _unsent(database: Database) -> list[tuple[Receipt, ReceiptDocument]]:
    async with database.transaction() as session:
        query = sa.select(Receipt).where(Receipt.emailed_at.is_(None), Receipt.number.is_not(None))
        waiting = _waiting(session.now())
        if waiting:
            query = query.where(Receipt.id.not_in(waiting))
        rows = await session.scalars(query.order_by(Receipt.issued_at, Receipt.id).limit(BATCH))
        receipts = list(rows)
        for receipt in receipts:
            await _complete_payment_method(session, receipt)
        return [(receipt, await document_for(session, receipt)) for receipt in receipts]


async def _complete_payment_method(session: UnitOfWork, receipt: Receipt) -> None:
    """Stripe may deliver the charge (which names the method) after the event that confirmed the
    gift; until its email is drawn, the receipt may still learn it from the donation."""
    if receipt.payment_method is not None:
        return
    donation = await session.get(Donation, receipt.donation_id)
    if donation is not None and donation.payment_method_type:
        receipt.payment_method = donation.payment_method_type


def _draw(receipt: Receipt, doc: ReceiptDocument, now: datetime) -> Drawn | None:
    try:
        drawn = Drawn(receipt.id, compose_email(receipt, doc, receipt_pdf(doc)))
    except Exception as e:  # noqa: BLE001 - whatever fails, the other receipts must still go
        # The receipt stays unsent, leaves the batch and is tried again after a backoff.
        _note_failure(receipt.id, e, now)
        return None
    _failed.pop(receipt.id, None)
    return drawn


async def enqueue_drawn(session: UnitOfWork, drawn: Drawn) -> bool:
    """Enqueue one drawn receipt email and mark its receipt; False when another run did."""
    marked = await session.execute(
        sa.update(Receipt)
        .where(Receipt.id == drawn.receipt_id, Receipt.emailed_at.is_(None))
        .values(emailed_at=session.now())
    )
    if getattr(marked, "rowcount", 0) != 1:
        return False
    return await enqueue(session, key=outbox_key(drawn.receipt_id), email=drawn.email)


async def email_receipts(database: Database) -> int:
    """One run of the job: up to BATCH receipts emailed; the count of those enqueued."""
    pending = await _unsent(database)
    drawn: list[Drawn] = []
    for receipt, doc in pending:
        # Drawing is CPU work: off the event loop, so a serving process stays responsive.
        item = await asyncio.to_thread(_draw, receipt, doc, database.clock.now())
        if item is not None:
            drawn.append(item)
    if not drawn:
        return 0
    sent = 0
    async with database.transaction() as session:
        for item in drawn:
            sent += await enqueue_drawn(session, item)
    return sent


JOB = Job("email_receipts", email_receipts, timedelta(seconds=2))
