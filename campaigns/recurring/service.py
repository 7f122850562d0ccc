"""Recurring gifts' use cases, driven by verified Stripe events (webhooks/handlers/subscriptions.py).

The gift is anchored on its first donation: the Checkout Session recorded for it at checkout
is the one proof that a subscription is ours, so `start_gift` runs only for a
`checkout.session.completed` already bound to that donation. Events about a subscription not
anchored yet wait (the handlers raise NotYetKnown while they name one of our donations).

Every paid invoice is exactly one donation (donations.stripe_invoice_id UNIQUE): the first
invoice pays the donation made at checkout (so its quote hold, referral and thank-you page
stay its own), each later one gets a new donation copied from the gift, numbered under the
gift's row lock. Both are confirmed through campaigns.donations.settlement like any one-off
gift: booked in the ledger, counted on the campaign, receipted and matched.

Facts, once each: recurring.started when the gift row is made, recurring.renewed when a later
installment's donation is made, recurring.payment_failed per failed attempt
(recurring_payment_failures, UNIQUE per invoice and attempt), recurring.canceled when the gift
stops (keyed by the stop time, so a cancel undone and made again is a new fact).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from campaigns import facts
from campaigns.donations import settlement
from campaigns.donations.models import Donation, DonationStatus
from campaigns.donations.repository import DonationRef, lock_donation
from campaigns.recurring import hooks, mail, repository
from campaigns.recurring.models import (
    STOPPED,
    Interval,
    RecurringGift,
    RecurringInstallment,
    RecurringPaymentFailure,
    RecurringStatus,
)
from campaigns.recurring.schemas import gift_out
from service.db import insert_for
from service.unit_of_work import UnitOfWork

CARD_LINK_LIFETIME = timedelta(days=30)
"""How long the emailed "update your card" link works (Stripe retries for about three weeks)."""


@dataclass(frozen=True)
class SessionFacts:
    """What a completed subscription-mode Checkout Session tells about the gift."""

    subscription_id: str
    customer_id: str | None
    invoice_id: str | None
    donor_email: str | None


@dataclass(frozen=True)
class SubscriptionFacts:
    subscription_id: str
    customer_id: str | None
    status: str
    """Stripe's status: active, past_due, unpaid, canceled, incomplete, incomplete_expired, ..."""
    cancel_at_period_end: bool
    cancel_at: datetime | None
    canceled_at: datetime | None
    ended_at: datetime | None
    current_period_end: datetime | None
    unit_amount_minor: int | None
    cancellation_reason: str | None
    stripe_time: datetime
    """event.created: which of two subscription events is newer."""


@dataclass(frozen=True)
class InvoiceFacts:
    invoice_id: str
    subscription_id: str
    billing_reason: str | None
    amount_paid_minor: int
    amount_due_minor: int
    currency: str
    attempt_count: int
    next_payment_attempt: datetime | None
    customer_email: str | None


async def start_gift(session: UnitOfWork, *, donation: Donation, facts_: SessionFacts) -> RecurringGift:
    """Make the gift for a bound, completed subscription Checkout Session (once: UNIQUE keys)."""
    gift = await repository.lock_gift_by_first_donation(session, donation.id)
    if gift is None:
        gift = await _insert_gift(session, donation=donation, facts_=facts_)
    if facts_.customer_id and gift.stripe_customer_id is None:
        gift.stripe_customer_id = facts_.customer_id
    if gift.donor_email is None and (email := facts_.donor_email or donation.donor_email):
        gift.donor_email = email.strip().lower()[:320]
    if donation.donor_email is None and gift.donor_email:
        # Before any sibling event confirms it: the receipt goes to the address Checkout took.
        donation.donor_email = gift.donor_email
    await _number(session, gift, donation, number=1)
    if facts_.invoice_id and donation.stripe_invoice_id is None:
        donation.stripe_invoice_id = facts_.invoice_id
    return gift


async def _insert_gift(session: UnitOfWork, *, donation: Donation, facts_: SessionFacts) -> RecurringGift:
    now = session.now()
    email = facts_.donor_email or donation.donor_email
    gift_id = uuid.uuid4()
    inserted = await session.scalar(
        insert_for(session, RecurringGift)
        .values(
            id=gift_id,
            nonprofit_id=donation.nonprofit_id,
            campaign_id=donation.campaign_id,
            first_donation_id=donation.id,
            donor_email=email.strip().lower()[:320] if email else None,
            amount_minor=donation.amount_minor,
            fee_cover_minor=donation.fee_cover_minor,
            currency=donation.currency,
            interval=Interval(donation.recurring_interval or Interval.MONTH.value),
            status=RecurringStatus.ACTIVE,
            stripe_subscription_id=facts_.subscription_id,
            stripe_customer_id=facts_.customer_id,
            language=donation.language,
            referral_link_id=donation.referral_link_id,
            started_at=now,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing()
        .returning(RecurringGift.id)
    )
    gift = await repository.lock_gift_by_first_donation(session, donation.id)
    if gift is None:
        # The subscription id is already another donation's gift: a replayed session cannot
        # name two donations, so this is not ours to start.
        raise GiftConflict(f"{facts_.subscription_id} already belongs to another recurring gift")
    if inserted is not None:
        await _announce(
            session, gift, facts.RECURRING_STARTED, f"recurring:{gift.id}:started", installments=0
        )
    return gift


class GiftConflict(Exception):
    """A subscription that another gift already holds (never expected from Stripe)."""


async def _number(session: UnitOfWork, gift: RecurringGift, donation: Donation, *, number: int) -> None:
    await session.execute(
        insert_for(session, RecurringInstallment)
        .values(donation_id=donation.id, recurring_gift_id=gift.id, number=number)
        .on_conflict_do_nothing()
    )


async def apply_subscription(session: UnitOfWork, *, gift: RecurringGift, sub: SubscriptionFacts) -> None:
    """The subscription's absolute state, unless a newer event already told a newer one."""
    if gift.stripe_updated_at is not None and sub.stripe_time < gift.stripe_updated_at:
        return
    gift.stripe_updated_at = sub.stripe_time
    if sub.customer_id and gift.stripe_customer_id is None:
        gift.stripe_customer_id = sub.customer_id
    if sub.current_period_end is not None:
        gift.current_period_end = sub.current_period_end
    if sub.unit_amount_minor is not None and sub.unit_amount_minor > 0:
        # A changed price (the donor portal) keeps the fee cover as it was: the rest is the gift.
        cover = gift.fee_cover_minor if sub.unit_amount_minor > gift.fee_cover_minor else 0
        gift.fee_cover_minor, gift.amount_minor = cover, sub.unit_amount_minor - cover
    gift.cancel_at = sub.cancel_at if sub.cancel_at_period_end or sub.cancel_at else None
    await move(session, gift, status_of(sub), canceled_at=sub.canceled_at, ended_at=sub.ended_at)


def status_of(sub: SubscriptionFacts) -> RecurringStatus:
    """Stripe's status in ours. Canceled at period end stays active (cancel_at says until when),
    as at Stripe: the paid period runs out, then customer.subscription.deleted stops it."""
    if sub.status in ("canceled", "incomplete_expired"):
        # Ended by Stripe (every retry failed) or stopped by someone: the reason tells which.
        return (
            RecurringStatus.ENDED if sub.cancellation_reason == "payment_failed" else RecurringStatus.CANCELED
        )
    if sub.status in ("past_due", "unpaid"):
        return RecurringStatus.PAST_DUE
    return RecurringStatus.ACTIVE


async def move(
    session: UnitOfWork,
    gift: RecurringGift,
    status: RecurringStatus,
    *,
    canceled_at: datetime | None = None,
    ended_at: datetime | None = None,
) -> None:
    """Change the gift's status; stopping it announces recurring.canceled once per stop."""
    if ended_at is not None:
        gift.ended_at = ended_at
    if status is gift.status:
        return
    if gift.status is RecurringStatus.ENDED or (gift.ended_at is not None and status not in STOPPED):
        return  # an ended subscription never runs again (Stripe cannot revive it)
    was_stopped = gift.status in STOPPED
    gift.status = status
    if status in STOPPED:
        gift.canceled_at = canceled_at or gift.canceled_at or session.now()
        if not was_stopped:
            stamp = int(gift.canceled_at.timestamp())
            await _announce(session, gift, facts.RECURRING_CANCELED, f"recurring:{gift.id}:canceled:{stamp}")
    elif was_stopped:
        gift.canceled_at = None  # "Don't cancel": the cancel at period end was undone


async def ensure_installment(
    session: UnitOfWork, *, gift: RecurringGift, invoice: InvoiceFacts
) -> tuple[Donation, bool] | None:
    """The donation this invoice pays, made if it is a renewal; (donation, made now).

    None when the invoice cannot be one of this gift's installments: the first invoice when
    the first donation already has another, or an amount or currency that is not the donation's.
    """
    donation = await lock_donation(session, DonationRef(invoice_id=invoice.invoice_id))
    made = False
    if donation is None and invoice.billing_reason == "subscription_create":
        donation = await lock_donation(session, DonationRef(donation_id=gift.first_donation_id))
        if donation is None or donation.stripe_invoice_id not in (None, invoice.invoice_id):
            return None
        if donation.charged_minor != invoice.amount_paid_minor or donation.currency != invoice.currency:
            return None  # checked before the invoice is tied to the donation: a mismatch binds nothing
        donation.stripe_invoice_id = invoice.invoice_id
    elif donation is None:
        if gift.currency != invoice.currency or invoice.amount_paid_minor <= 0:
            return None
        donation, made = await _new_installment(session, gift, invoice), True
    if donation.charged_minor != invoice.amount_paid_minor or donation.currency != invoice.currency:
        return None
    return donation, made


async def record_paid_invoice(
    session: UnitOfWork, *, gift: RecurringGift, invoice: InvoiceFacts
) -> Donation | None:
    """The installment this paid invoice is, confirmed; None when it is not ours to book."""
    found = await ensure_installment(session, gift=gift, invoice=invoice)
    if found is None:
        return None
    donation, _ = found
    email = invoice.customer_email or gift.donor_email
    await settlement.confirm_donation(session, ref=DonationRef(donation_id=donation.id), donor_email=email)
    if gift.status is RecurringStatus.PAST_DUE:
        await move(session, gift, RecurringStatus.ACTIVE)
    if donation.installment is not None and donation.installment > 1:
        # invoice.paid is the one event that announces it (the inbox runs each event once; the
        # listeners key their rows by the fact's key as well), whichever sibling confirmed first.
        key = f"recurring:{gift.id}:invoice:{invoice.invoice_id}:renewed"
        await _announce(session, gift, facts.RECURRING_RENEWED, key)
    return donation


async def _new_installment(session: UnitOfWork, gift: RecurringGift, invoice: InvoiceFacts) -> Donation:
    first = await session.get(Donation, gift.first_donation_id)
    assert first is not None  # a gift's first donation is never deleted (FK)
    number = await repository.installment_count(session, gift.id) + 1
    cover = gift.fee_cover_minor if invoice.amount_paid_minor > gift.fee_cover_minor else 0
    donation = Donation(
        id=uuid.uuid4(),
        campaign_id=gift.campaign_id,
        nonprofit_id=gift.nonprofit_id,
        amount_minor=invoice.amount_paid_minor - cover,
        fee_cover_minor=cover,
        currency=gift.currency,
        status=DonationStatus.PENDING,
        donor_email=gift.donor_email,
        donor_name=first.donor_name,
        anonymous=first.anonymous,
        hide_amount=first.hide_amount,
        message_status=first.message_status,
        language=gift.language,
        referral_link_id=gift.referral_link_id,
        device_hash=first.device_hash,
        client_hash=first.client_hash,
        destination_account_id=first.destination_account_id,
        recurring_interval=gift.interval.value,
        installment=number,
        stripe_invoice_id=invoice.invoice_id,
    )
    session.add(donation)
    await session.flush()
    await _number(session, gift, donation, number=number)
    # A gift made through a fundraiser's page keeps counting for it, installment by installment.
    await hooks.attribution().attribute_installment(
        session, installment_id=donation.id, first_donation_id=gift.first_donation_id
    )
    return donation


async def link_invoice_payment(
    session: UnitOfWork, *, invoice_id: str, payment_intent_id: str | None, charge_id: str | None
) -> Donation | None:
    """Record the intent (and charge) that paid an installment's invoice, so that its charge,
    refunds and disputes bind to that installment's donation (Stripe's invoice names neither)."""
    donation = await lock_donation(session, DonationRef(invoice_id=invoice_id))
    if donation is None:
        return None
    if payment_intent_id:
        await settlement.link_payment_intent(
            session, ref=DonationRef(donation_id=donation.id), payment_intent_id=payment_intent_id
        )
    if charge_id:
        charge = settlement.ChargeFacts(charge_id=charge_id, payment_intent_id=payment_intent_id)
        await settlement.record_charge(session, ref=DonationRef(donation_id=donation.id), charge=charge)
    return donation


async def record_failed_invoice(session: UnitOfWork, *, gift: RecurringGift, invoice: InvoiceFacts) -> bool:
    """An installment's attempt failed: past due, and the donor hears of it once per attempt.

    False when there was nothing to do: the invoice was paid meanwhile (a late failure event),
    the gift has stopped, or this attempt was already recorded.
    """
    paid = await lock_donation(session, DonationRef(invoice_id=invoice.invoice_id))
    if (paid is not None and paid.status in settlement.PAID) or gift.status in STOPPED:
        return False
    token = secrets.token_urlsafe(32)
    now = session.now()
    inserted = await session.scalar(
        insert_for(session, RecurringPaymentFailure)
        .values(
            id=uuid.uuid4(),
            recurring_gift_id=gift.id,
            stripe_invoice_id=invoice.invoice_id,
            attempt=max(invoice.attempt_count, 1),
            amount_minor=invoice.amount_due_minor,
            currency=invoice.currency,
            next_attempt_at=invoice.next_payment_attempt,
            card_link_digest=card_link_digest(token),
            card_link_expires_at=now + CARD_LINK_LIFETIME,
            created_at=now,
        )
        .on_conflict_do_nothing()
        .returning(RecurringPaymentFailure.id)
    )
    if inserted is None:
        return False
    await move(session, gift, RecurringStatus.PAST_DUE)
    attempt = max(invoice.attempt_count, 1)
    await _announce(
        session,
        gift,
        facts.RECURRING_PAYMENT_FAILED,
        f"recurring:{gift.id}:invoice:{invoice.invoice_id}:failed:{attempt}",
    )
    if gift.donor_email:
        await mail.send_payment_failed(
            session,
            gift=gift,
            invoice_id=invoice.invoice_id,
            attempt=attempt,
            token=token,
            amount_minor=invoice.amount_due_minor,
            currency=invoice.currency,
            next_attempt_at=invoice.next_payment_attempt,
        )
    return True


def card_link_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def paid_installments(session: UnitOfWork, gift_id: uuid.UUID) -> int:
    count = await session.scalar(
        sa.select(sa.func.count())
        .select_from(RecurringInstallment)
        .join(Donation, Donation.id == RecurringInstallment.donation_id)
        .where(RecurringInstallment.recurring_gift_id == gift_id, Donation.status.in_(settlement.PAID))
    )
    return int(count or 0)


async def _announce(
    session: UnitOfWork, gift: RecurringGift, fact_type: str, key: str, *, installments: int | None = None
) -> None:
    await session.flush()
    paid = installments if installments is not None else await paid_installments(session, gift.id)
    await facts.announce(
        session,
        facts.Fact(
            type=fact_type,
            key=key,
            nonprofit_id=gift.nonprofit_id,
            subject_id=gift.id,
            occurred_at=session.now(),
            data=gift_out(gift, installments_paid=paid).model_dump(mode="json"),
        ),
    )
