"""Issuing receipts: the fact listener and the numbering that runs just before commit.

`on_fact` (campaigns.wiring.FACT_LISTENERS, after the integration events and outbound webhooks)
hears, inside the transaction that makes them true:

    donation.confirmed                  a receipt, when the donation has an email

and, through the plug campaigns.donations.hooks.receipts, `on_email_learnt`: a donation paid
before its email arrived gets that receipt when the email comes (same cause, so once).
    donation.refunded                   a corrected receipt: the gift net of refunds
    donation.dispute_closed (lost)      a corrected receipt: the gift net of refunds and the dispute

A won dispute issues nothing. Each receipt row is keyed by (donation, kind, fact key), UNIQUE,
so a replayed fact issues nothing new; recurring installments are donations confirmed through
the same settlement and get their receipts the same way.

Numbers: the row is inserted without a number and `number_receipts`, a finisher of the unit of
work, gives every unnumbered receipt of the unit its number just before commit, one
`INSERT ... ON CONFLICT DO UPDATE ... RETURNING` per (nonprofit, year) on `receipt_counters`, in
(nonprofit, year) order. That upsert locks the counter row until the unit ends: concurrent
confirmations queue on it, a rolled-back unit gives its numbers back (no gaps, no duplicates),
and a savepoint the processor rolls back takes its unnumbered rows with it. The counters come
last in the lock order (docs/architecture.md), after the campaigns: the finisher first runs the
campaigns' totals refresh itself, so the order is the same whichever finisher was registered
first.

The year is the year of issue in the issuer's time zone (tax profile, else its country's
default, campaigns.receipts.tax.TIME_ZONE_BY_COUNTRY); the receipt's gift date is the day the
money arrived in that zone. The email with the PDF is written to the mail outbox by a worker job
(campaigns.receipts.mailing), not here: a PDF takes a tenth of a second to draw, and a webhook
batch of two hundred gifts must not hold its locks for twenty seconds, nor fail its payments
because a document could not be drawn.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from itertools import groupby
from zoneinfo import ZoneInfo

from campaigns import facts
from campaigns.donations import bookkeeping, settlement
from campaigns.donations.models import Donation
from campaigns.nonprofits.models import Nonprofit
from campaigns.receipts import repository
from campaigns.receipts.models import Receipt, ReceiptKind
from campaigns.receipts.tax import Issuer, default_time_zone
from service.db import insert_for
from service.i18n import LANGUAGES
from service.unit_of_work import UnitOfWork

DISPUTE_LOST = "lost"


async def on_fact(session: UnitOfWork, fact: facts.Fact) -> None:
    if fact.type == facts.DONATION_CONFIRMED:
        await issue_receipt(session, donation_id=fact.subject_id, cause=fact.key)
    elif fact.type == facts.DONATION_REFUNDED:
        await issue_correction(session, donation_id=fact.subject_id, cause=fact.key)
    elif fact.type == facts.DONATION_DISPUTE_CLOSED:
        donation = await session.get(Donation, fact.subject_id)
        if donation is not None and donation.dispute_status == DISPUTE_LOST:
            await issue_correction(session, donation_id=fact.subject_id, cause=fact.key)


async def on_email_learnt(session: UnitOfWork, donation: Donation) -> None:
    """A paid donation learnt its donor's email after its confirmation (campaigns.donations.hooks
    .receipts): the receipt that confirmation could not issue, keyed by the confirmation's own
    fact key so the UNIQUE issues it once, and the corrections already due for its refunds or a
    lost dispute."""
    if donation.status not in settlement.PAID:
        return
    issued = await issue_receipt(session, donation_id=donation.id, cause=f"donation:{donation.id}:confirmed")
    if issued is None:
        return
    if donation.refunded_minor > 0:
        cause = f"donation:{donation.id}:refund:{donation.refunded_minor}"
        await issue_correction(session, donation_id=donation.id, cause=cause)
    if donation.dispute_status == DISPUTE_LOST:
        await issue_correction(
            session, donation_id=donation.id, cause=f"donation:{donation.id}:dispute_closed"
        )


async def issuer_for(session: UnitOfWork, nonprofit_id: uuid.UUID) -> Issuer:
    """The nonprofit as its receipts name it: the tax profile, else what it signed up with.

    Read once per webhook batch (UnitOfWork.remembered): a batch confirms many gifts of one
    nonprofit, and a missing tax profile is otherwise a query per gift."""
    return await session.remembered(("receipts.issuer", nonprofit_id), lambda: _issuer(session, nonprofit_id))


async def _issuer(session: UnitOfWork, nonprofit_id: uuid.UUID) -> Issuer:
    profile = await repository.get_tax_profile(session, nonprofit_id)
    if profile is not None:
        return Issuer(
            legal_name=profile.legal_name,
            country=profile.country,
            registration_number=profile.registration_number,
            tax_id=profile.tax_id,
            time_zone=profile.time_zone,
        )
    nonprofit = await session.get(Nonprofit, nonprofit_id)
    if nonprofit is None:
        raise LookupError(f"nonprofit {nonprofit_id} does not exist")
    return Issuer(
        legal_name=nonprofit.name,
        country=nonprofit.country,
        registration_number=nonprofit.registration_number,
        tax_id=None,
        time_zone=default_time_zone(nonprofit.country),
    )


def receipt_language(donation: Donation, issuer: Issuer) -> str:
    """The donor's language; for gifts that do not know it, the issuer's country's."""
    if donation.language in LANGUAGES:
        return donation.language
    return "nl" if issuer.country == "NL" else "en"


async def net_given_minor(session: UnitOfWork, donation: Donation) -> int:
    """What the donor gave (gift plus fee cover) less refunds and, once a dispute is lost, what
    the bank took back (from the ledger, absolute, like settlement)."""
    net = donation.charged_minor - donation.refunded_minor
    if donation.dispute_status == DISPUTE_LOST:
        sums = await bookkeeping.donation_sums(session, donation.id)
        withdrawn = sums.get(bookkeeping.Code.DISPUTE_WITHDRAWN, 0) - sums.get(
            bookkeeping.Code.DISPUTE_REINSTATED, 0
        )
        net -= max(withdrawn, 0)
    return max(net, 0)


async def issue_receipt(session: UnitOfWork, *, donation_id: uuid.UUID, cause: str) -> uuid.UUID | None:
    """The receipt of a confirmed donation; None when it has no email or was issued before."""
    donation = await session.get(Donation, donation_id)
    if donation is None or not donation.donor_email:
        return None
    issuer = await issuer_for(session, donation.nonprofit_id)
    now = session.now()
    gift_at = donation.confirmed_at or now
    return await _insert(
        session,
        donation=donation,
        issuer=issuer,
        kind=ReceiptKind.RECEIPT,
        cause=cause,
        amount_minor=donation.charged_minor,
        gift_at=gift_at,
        refers_to_id=None,
        fee_cover_minor=donation.fee_cover_minor,
    )


async def issue_correction(session: UnitOfWork, *, donation_id: uuid.UUID, cause: str) -> uuid.UUID | None:
    """A corrected receipt referring to the donation's receipt; None when it never had one."""
    donation = await session.get(Donation, donation_id)
    if donation is None:
        return None
    original = await repository.original_receipt(session, donation.id)
    if original is None:
        return None
    issuer = await issuer_for(session, donation.nonprofit_id)
    return await _insert(
        session,
        donation=donation,
        issuer=issuer,
        kind=ReceiptKind.CORRECTION,
        cause=cause,
        amount_minor=await net_given_minor(session, donation),
        gift_at=donation.confirmed_at or original.issued_at,
        refers_to_id=original.id,
        language=original.language,
    )


async def _insert(
    session: UnitOfWork,
    *,
    donation: Donation,
    issuer: Issuer,
    kind: ReceiptKind,
    cause: str,
    amount_minor: int,
    gift_at: datetime,
    refers_to_id: uuid.UUID | None,
    language: str | None = None,
    fee_cover_minor: int = 0,
) -> uuid.UUID | None:
    zone = ZoneInfo(issuer.time_zone)
    now = session.now()
    assert donation.donor_email is not None
    receipt_id: uuid.UUID | None = await session.scalar(
        insert_for(session, Receipt)
        .values(
            id=uuid.uuid4(),
            nonprofit_id=donation.nonprofit_id,
            donation_id=donation.id,
            kind=kind,
            cause=cause[:200],
            year=now.astimezone(zone).year,
            number=None,
            amount_minor=amount_minor,
            currency=donation.currency,
            fee_cover_minor=fee_cover_minor,
            refers_to_id=refers_to_id,
            issued_at=now,
            gift_date=gift_at.astimezone(zone).date(),
            language=language or receipt_language(donation, issuer),
            donor_email=donation.donor_email,
            donor_name=donation.donor_name,
            payment_method=donation.payment_method_type,
            issuer=issuer.snapshot(),
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=[Receipt.donation_id, Receipt.kind, Receipt.cause])
        .returning(Receipt.id)
    )
    if receipt_id is not None:
        session.before_commit(number_receipts)
    return receipt_id


async def number_receipts(session: UnitOfWork) -> None:
    """Give the unit's unnumbered receipts their numbers (see the module docstring)."""
    # Campaigns come before receipt counters in the lock order: refresh them first if due.
    await settlement.refresh_campaign_totals(session)
    pending = await repository.unnumbered_receipts(session)
    for (nonprofit_id, year), group in groupby(pending, key=lambda r: (r.nonprofit_id, r.year)):
        receipts = list(group)
        last = await repository.take_numbers(
            session, nonprofit_id=nonprofit_id, year=year, count=len(receipts)
        )
        for offset, receipt in enumerate(receipts):
            receipt.number = last - len(receipts) + 1 + offset
        # The payment method may have arrived with a later event of the same batch.
        for receipt in receipts:
            if receipt.payment_method is None:
                donation = await session.get(Donation, receipt.donation_id)
                receipt.payment_method = donation.payment_method_type if donation is not None else None
    await session.flush()
