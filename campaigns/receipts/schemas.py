"""Request and response shapes for the nonprofit's tax profile."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from campaigns.receipts.models import ReceiptKind, TaxScheme
from service.pagination import PageQuery
from service.validation import Country, Name


class TaxProfileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    legal_name: Name = Field(description="The name the law knows the organisation by; printed on receipts.")
    country: Country = Field(
        description="Where the organisation is registered for tax (ISO 3166, e.g. NL, US, GB)."
    )
    registration_number: Name = Field(
        max_length=100, description="The registry's number, e.g. the KvK number in the Netherlands."
    )
    tax_id: str | None = Field(
        default=None,
        max_length=30,
        description=(
            "NL: the RSIN (9 digits, eleven test); US: the EIN (NN-NNNNNNN); GB: the registered charity "
            "number (6 to 8 digits, or SC/NIC and 6 digits). Empty: receipts carry the neutral text."
        ),
    )
    time_zone: str | None = Field(
        default=None,
        max_length=64,
        description="IANA zone in which a gift's date and receipt year are read (default: the country's).",
    )


class TaxProfileOut(BaseModel):
    legal_name: str
    country: str
    registration_number: str
    tax_id: str | None
    time_zone: str
    scheme: TaxScheme = Field(
        description="Which tax text receipts carry: anbi, us_501c3, uk_charity or neutral."
    )
    tax_text: str = Field(description="The text receipts carry, in English.")
    saved: bool = Field(description="False while the profile was never saved (the values come from sign-up).")
    updated_at: datetime | None


class ReceiptQuery(PageQuery):
    year: int | None = Field(
        default=None, ge=2000, le=9999, description="Only receipts numbered in this year."
    )


class ReceiptOut(BaseModel):
    id: uuid.UUID
    number: str = Field(description="`2026-000123`: gapless per nonprofit and year.")
    kind: ReceiptKind
    year: int
    donation_id: uuid.UUID
    amount_minor: int = Field(
        description="What the donor gave; for a correction, net of refunds and lost disputes."
    )
    fee_cover_minor: int
    currency: str
    refers_to: str | None = Field(description="A correction's original receipt number.")
    gift_date: date
    issued_at: datetime
    language: str
    donor_email: str
    emailed: bool = Field(description="Whether its email (with the PDF) went into the mail outbox.")


class ReceiptList(BaseModel):
    data: list[ReceiptOut]
    next_cursor: str | None
