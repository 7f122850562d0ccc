"""Yearly statements: every gift of one donor to one nonprofit in one year, net of refunds.

One PDF per nonprofit, because each nonprofit is its own issuer with its own tax text. A gift
belongs to the year in which its money arrived (the donation's confirmation), read in the
issuer's time zone. A receipt's number carries its year of issue instead
(campaigns.receipts.issuing); the two agree except for a receipt issued after the year turned
(say, when the donor's email arrived later), which is listed under the year of the gift. Each
line lists the gift's receipt and corrected receipt numbers; refunds and lost disputes are
subtracted, as on the last corrected receipt. Years outside FIRST_YEAR..LAST_YEAR have no
statement (ReceiptNotFound, a 404), so no date arithmetic runs past what datetime can hold.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from campaigns.donations.models import Donation
from campaigns.donations.settlement import PAID
from campaigns.receipts import repository
from campaigns.receipts.errors import ReceiptNotFound
from campaigns.receipts.issuing import issuer_for, net_given_minor
from campaigns.receipts.pdf import StatementDocument, StatementLine, statement_pdf
from campaigns.receipts.tax import Issuer
from service.i18n import LANGUAGES
from service.unit_of_work import UnitOfWork

FIRST_YEAR = 2000
LAST_YEAR = 9998


def year_bounds(year: int, time_zone: str) -> tuple[datetime, datetime]:
    """[start, end) of `year` in `time_zone`, as UTC instants; ReceiptNotFound outside
    FIRST_YEAR..LAST_YEAR (year 9999 has no next New Year, year 1 no UTC start)."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ReceiptNotFound("no such statement")
    zone = ZoneInfo(time_zone)
    start = datetime(year, 1, 1, tzinfo=zone).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=zone).astimezone(UTC)
    return start, end


async def gifts_in_year(
    session: UnitOfWork, *, email: str, nonprofit_id: uuid.UUID, year: int, issuer: Issuer
) -> list[Donation]:
    start, end = year_bounds(year, issuer.time_zone)
    rows = await session.scalars(
        sa.select(Donation)
        .where(
            Donation.donor_email == email.strip().lower(),
            Donation.nonprofit_id == nonprofit_id,
            Donation.status.in_(PAID),
            Donation.confirmed_at >= start,
            Donation.confirmed_at < end,
        )
        .order_by(Donation.confirmed_at, Donation.id)
    )
    return list(rows)


async def statement_document(
    session: UnitOfWork, *, email: str, nonprofit_id: uuid.UUID, year: int, language: str
) -> StatementDocument:
    year_bounds(year, "UTC")  # an out-of-range year is unknown before anything is read
    issuer = await issuer_for(session, nonprofit_id)
    gifts = await gifts_in_year(session, email=email, nonprofit_id=nonprofit_id, year=year, issuer=issuer)
    receipts = await repository.receipts_for_donations(session, [gift.id for gift in gifts])
    numbers: dict[uuid.UUID, list[str]] = {}
    names = [receipt.donor_name for receipt in receipts if receipt.donor_name]
    for receipt in receipts:
        numbers.setdefault(receipt.donation_id, []).append(receipt.display_number)
    zone = ZoneInfo(issuer.time_zone)
    lines = []
    for gift in gifts:
        assert gift.confirmed_at is not None
        net = await net_given_minor(session, gift)
        lines.append(
            StatementLine(
                gift_date=gift.confirmed_at.astimezone(zone).date(),
                receipt_numbers=tuple(numbers.get(gift.id, [])),
                given_minor=gift.charged_minor,
                returned_minor=gift.charged_minor - net,
                currency=gift.currency,
            )
        )
    return StatementDocument(
        year=year,
        issuer=issuer,
        donor_email=email.strip().lower(),
        donor_name=names[-1] if names else None,
        lines=lines,
        issued_at=session.now(),
        language=language if language in LANGUAGES else "en",
    )


async def yearly_statement_pdf(
    session: UnitOfWork, *, email: str, nonprofit_id: uuid.UUID, year: int, language: str
) -> bytes:
    """The statement as a PDF. The caller decides who may see it (the portal: only the signed-in
    donor, for their own email); a year without gifts gives a statement that says so."""
    return statement_pdf(
        await statement_document(
            session, email=email, nonprofit_id=nonprofit_id, year=year, language=language
        )
    )
