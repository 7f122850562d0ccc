"""The date of issue on receipts and statements is the issuer's local date."""

from __future__ import annotations

from datetime import UTC, date, datetime

from campaigns.receipts.pdf import ReceiptDocument, StatementDocument, receipt_pdf, statement_pdf
from campaigns.receipts.tax import Issuer
from service.i18n import format_date
from tests.campaigns.receipts.helpers import pdf_text


class TestDateOfIssue:
    def test_it_is_the_issuers_local_date_like_the_numbers_year(self) -> None:
        amsterdam = Issuer(
            legal_name="Stichting Warme Jassen",
            country="NL",
            registration_number="12345678",
            tax_id=None,
            time_zone="Europe/Amsterdam",
        )
        # 23:30 UTC on New Year's Eve is already 1 January in Amsterdam.
        issued_at = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
        local, utc = format_date(date(2027, 1, 1), "en"), format_date(date(2026, 12, 31), "en")
        receipt = pdf_text(
            receipt_pdf(
                ReceiptDocument(
                    number="2027-000001",
                    corrected=False,
                    issuer=amsterdam,
                    donor_name=None,
                    donor_email="ada@example.org",
                    gift_date=date(2027, 1, 1),
                    issued_at=issued_at,
                    amount_minor=2500,
                    currency="eur",
                    payment_method="card",
                    language="en",
                )
            )
        )
        statement = pdf_text(
            statement_pdf(
                StatementDocument(
                    year=2026,
                    issuer=amsterdam,
                    donor_email="ada@example.org",
                    donor_name=None,
                    lines=[],
                    issued_at=issued_at,
                    language="en",
                )
            )
        )
        assert f"Date of issue {local}" in receipt and utc not in receipt
        assert f"Date of issue {local}" in statement
