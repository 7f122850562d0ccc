"""A donor's receipts and yearly statements, only ever their own.

Receipts are found by the address they were sent to (campaigns.receipts), the donor's identity
in the portal; a receipt id that belongs to someone else is as unknown as one that does not
exist (404), so ids reveal nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.portal import repository
from campaigns.receipts import repository as receipts_repository
from campaigns.receipts import service as receipts
from campaigns.receipts import statements
from campaigns.receipts.errors import ReceiptNotFound
from campaigns.receipts.models import ReceiptKind
from service.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class ReceiptLink:
    receipt_id: uuid.UUID
    number: str
    corrected: bool


@dataclass(frozen=True)
class StatementLink:
    nonprofit_id: uuid.UUID
    nonprofit_name: str
    year: int


@dataclass(frozen=True)
class Documents:
    receipts: dict[uuid.UUID, list[ReceiptLink]]
    """Per donation: its receipt, then any corrected receipts, oldest first."""
    statements: Sequence[StatementLink]


async def documents_for_email(session: AsyncSession, *, email: str, names: dict[uuid.UUID, str]) -> Documents:
    """`names`: nonprofit id -> name, for the statements' labels."""
    found = await receipts_repository.receipts_for_email(session, email)
    by_donation: dict[uuid.UUID, list[ReceiptLink]] = {}
    years: set[tuple[uuid.UUID, int]] = set()
    for receipt in sorted(found, key=lambda r: (r.issued_at, r.kind is ReceiptKind.CORRECTION)):
        by_donation.setdefault(receipt.donation_id, []).append(
            ReceiptLink(
                receipt_id=receipt.id,
                number=receipt.display_number,
                corrected=receipt.kind is ReceiptKind.CORRECTION,
            )
        )
        years.add((receipt.nonprofit_id, receipt.year))
    links = [
        StatementLink(nonprofit_id=nonprofit_id, nonprofit_name=names.get(nonprofit_id, ""), year=year)
        for nonprofit_id, year in years
    ]
    links.sort(key=lambda s: (-s.year, s.nonprofit_name.lower()))
    return Documents(receipts=by_donation, statements=links)


async def receipt_for_donor(session: AsyncSession, *, email: str, receipt_id: uuid.UUID) -> tuple[bytes, str]:
    """The receipt's PDF and file name; ReceiptNotFound unless it was sent to this donor."""
    receipt = await receipts.get_numbered_receipt(session, receipt_id)
    if receipt.donor_email.strip().lower() != email:
        raise ReceiptNotFound("no such receipt")
    return await receipts.receipt_pdf(session, receipt.id), receipts.pdf_filename(receipt)


async def statement_for_donor(
    session: UnitOfWork, *, email: str, nonprofit_id: uuid.UUID, year: int, language: str
) -> tuple[bytes, str]:
    """The donor's yearly statement for a nonprofit they gave to; ReceiptNotFound otherwise
    (a nonprofit the donor never gave to is as unknown as one that does not exist)."""
    if not await repository.gives_to(session, email=email, nonprofit_id=nonprofit_id):
        raise ReceiptNotFound("no such statement")
    pdf = await statements.yearly_statement_pdf(
        session, email=email, nonprofit_id=nonprofit_id, year=year, language=language
    )
    stem = "jaaroverzicht" if language == "nl" else "statement"
    return pdf, f"{stem}-{year}.pdf"
