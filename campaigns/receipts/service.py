"""Receipts' use cases: the tax profile a nonprofit fills in, and a receipt as its PDF.

For the donor portal (campaigns.portal): `receipt_pdf(session, receipt_id)` and
`repository.receipts_for_email(session, email)`; statements are in `campaigns.receipts.statements`.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.nonprofits.actors import Actor
from campaigns.nonprofits.models import MemberRole, Nonprofit
from campaigns.receipts import repository
from campaigns.receipts.errors import ReceiptNotFound
from campaigns.receipts.models import Receipt, ReceiptKind, TaxProfile, format_number
from campaigns.receipts.pdf import ReceiptDocument
from campaigns.receipts.pdf import receipt_pdf as draw_receipt
from campaigns.receipts.schemas import ReceiptOut, TaxProfileIn, TaxProfileOut
from campaigns.receipts.tax import (
    InvalidTaxId,
    Issuer,
    default_time_zone,
    normalise_tax_id,
    tax_text,
    time_zone_is_known,
)
from service import audit
from service.errors import ValidationFailed
from service.unit_of_work import UnitOfWork

DISPUTE_CAUSE = ":dispute_closed"


async def tax_profile_view(session: AsyncSession, *, actor: Actor) -> TaxProfileOut:
    """The actor's organisation's profile; before it was saved, what sign-up told us."""
    profile = await repository.get_tax_profile(session, actor.nonprofit_id)
    if profile is not None:
        return _out(profile, saved=True)
    nonprofit = await session.get(Nonprofit, actor.nonprofit_id)
    assert nonprofit is not None
    issuer = Issuer(
        legal_name=nonprofit.name,
        country=nonprofit.country,
        registration_number=nonprofit.registration_number,
        tax_id=None,
        time_zone=default_time_zone(nonprofit.country),
    )
    return _issuer_out(issuer, saved=False, updated_at=None)


def _out(profile: TaxProfile, *, saved: bool) -> TaxProfileOut:
    issuer = Issuer(
        legal_name=profile.legal_name,
        country=profile.country,
        registration_number=profile.registration_number,
        tax_id=profile.tax_id,
        time_zone=profile.time_zone,
    )
    return _issuer_out(issuer, saved=saved, updated_at=profile.updated_at)


def _issuer_out(issuer: Issuer, *, saved: bool, updated_at: Any) -> TaxProfileOut:
    return TaxProfileOut(
        legal_name=issuer.legal_name,
        country=issuer.country,
        registration_number=issuer.registration_number,
        tax_id=issuer.tax_id,
        time_zone=issuer.time_zone,
        scheme=issuer.scheme,
        tax_text=tax_text(issuer, "en"),
        saved=saved,
        updated_at=updated_at,
    )


def checked_profile(data: TaxProfileIn) -> Issuer:
    """The profile as it will be stored; ValidationFailed names each field that is wrong."""
    errors: dict[str, str] = {}
    tax_id: str | None = None
    try:
        tax_id = normalise_tax_id(data.country, data.tax_id)
    except InvalidTaxId as e:
        errors["tax_id"] = str(e)
    zone = (data.time_zone or "").strip() or default_time_zone(data.country)
    if not time_zone_is_known(zone):
        errors["time_zone"] = "Choose a time zone such as Europe/Amsterdam or America/New_York."
    if errors:
        raise ValidationFailed(errors)
    return Issuer(
        legal_name=data.legal_name.strip(),
        country=data.country,
        registration_number=data.registration_number.strip(),
        tax_id=tax_id,
        time_zone=zone,
    )


async def save_tax_profile(session: UnitOfWork, *, actor: Actor, data: TaxProfileIn) -> TaxProfileOut:
    """Owners set how receipts name their organisation; audited with what it was before."""
    actor.require(MemberRole.OWNER)
    issuer = checked_profile(data)
    profile = await repository.get_tax_profile(session, actor.nonprofit_id)
    before = _snapshot(profile)
    if profile is None:
        profile = TaxProfile(nonprofit_id=actor.nonprofit_id)
        session.add(profile)
    profile.legal_name = issuer.legal_name
    profile.country = issuer.country
    profile.registration_number = issuer.registration_number
    profile.tax_id = issuer.tax_id
    profile.time_zone = issuer.time_zone
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="tax_profile.update",
        subject_type="nonprofit",
        subject_id=str(actor.nonprofit_id),
        nonprofit_id=actor.nonprofit_id,
        before=before,
        after=_snapshot(profile),
    )
    return _out(profile, saved=True)


def _snapshot(profile: TaxProfile | None) -> dict[str, Any] | None:
    if profile is None:
        return None
    return {
        "legal_name": profile.legal_name,
        "country": profile.country,
        "registration_number": profile.registration_number,
        "tax_id": profile.tax_id,
        "time_zone": profile.time_zone,
    }


async def document_for(session: AsyncSession, receipt: Receipt) -> ReceiptDocument:
    """What a receipt's PDF and email show, from the receipt row alone (and its original's)."""
    original = await repository.get_receipt(session, receipt.refers_to_id) if receipt.refers_to_id else None
    corrected = receipt.kind is ReceiptKind.CORRECTION
    return ReceiptDocument(
        number=receipt.display_number,
        corrected=corrected,
        issuer=Issuer.from_snapshot(receipt.issuer),
        donor_name=receipt.donor_name,
        donor_email=receipt.donor_email,
        gift_date=receipt.gift_date,
        issued_at=receipt.issued_at,
        amount_minor=receipt.amount_minor,
        currency=receipt.currency,
        payment_method=receipt.payment_method,
        language=receipt.language,
        original_number=format_number(original.year, original.number) if original is not None else None,
        original_amount_minor=original.amount_minor if original is not None else None,
        reason=("dispute" if receipt.cause.endswith(DISPUTE_CAUSE) else "refund") if corrected else None,
        fee_cover_minor=receipt.fee_cover_minor,
    )


async def get_numbered_receipt(session: AsyncSession, receipt_id: uuid.UUID) -> Receipt:
    receipt = await repository.get_receipt(session, receipt_id)
    if receipt is None or receipt.number is None:
        raise ReceiptNotFound("no such receipt")
    return receipt


async def receipt_pdf(session: AsyncSession, receipt_id: uuid.UUID) -> bytes:
    """The receipt's PDF, the same document its email carried (drawn again from the row).

    The caller decides who may see it (the portal: only the donor it was sent to)."""
    receipt = await get_numbered_receipt(session, receipt_id)
    return draw_receipt(await document_for(session, receipt))


def pdf_filename(receipt: Receipt) -> str:
    stem = {"nl": "ontvangstbewijs", "en": "receipt"}.get(receipt.language, "receipt")
    return f"{stem}-{receipt.display_number}.pdf"


async def list_receipts(
    session: AsyncSession, *, actor: Actor, year: int | None, limit: int, cursor: str | None
) -> list[ReceiptOut]:
    """The actor's organisation's receipts (one more than `limit`: the caller pages)."""
    rows = await repository.list_receipts(
        session, nonprofit_id=actor.nonprofit_id, year=year, limit=limit, cursor=cursor
    )
    return [await receipt_out(session, receipt) for receipt in rows]


async def receipt_out(session: AsyncSession, receipt: Receipt) -> ReceiptOut:
    original = await repository.get_receipt(session, receipt.refers_to_id) if receipt.refers_to_id else None
    return ReceiptOut(
        id=receipt.id,
        number=receipt.display_number,
        kind=receipt.kind,
        year=receipt.year,
        donation_id=receipt.donation_id,
        amount_minor=receipt.amount_minor,
        fee_cover_minor=receipt.fee_cover_minor,
        currency=receipt.currency,
        refers_to=original.display_number if original is not None else None,
        gift_date=receipt.gift_date,
        issued_at=receipt.issued_at,
        language=receipt.language,
        donor_email=receipt.donor_email,
        emailed=receipt.emailed_at is not None,
    )
