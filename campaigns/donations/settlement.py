"""Donation settlement: the use cases verified Stripe events drive.

Every change follows two rules, because Stripe delivers events late, twice and out of order:
status only moves forward (STATUS_RANK), and amounts come from absolute facts (a refund's
amount, the total refunded per the ledger), never from deltas. Each use case locks the
donation, applies the fact, books the money (idempotent ledger keys), notes the campaign
when a settled amount may have changed, and calls the settlement hook. Callers own the
unit of work; it refreshes the noted campaigns' totals itself before committing
(refresh_campaign_totals, registered with the unit). None means "no such donation (yet)".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from campaigns.donations import announcements, bookkeeping, hooks
from campaigns.donations.models import STATUS_RANK, Donation, DonationStatus
from campaigns.donations.repository import (
    DonationRef,
    lock_campaign,
    lock_donation,
    note_stripe_ids,
    settled_totals,
)
from service.unit_of_work import UnitOfWork

PAID = frozenset(
    {
        DonationStatus.CONFIRMED,
        DonationStatus.PARTIALLY_REFUNDED,
        DonationStatus.REFUNDED,
        DonationStatus.DISPUTED,
    }
)
"""Statuses in which the donor's money reached us (the receipt is in the ledger)."""


@dataclass(frozen=True)
class ChargeFacts:
    charge_id: str
    payment_intent_id: str | None = None
    card_fingerprint: str | None = None
    risk_score: int | None = None
    risk_level: str | None = None
    fee_minor: int | None = None
    payment_method_type: str | None = None
    """payment_method_details.type: card, ideal, sepa_debit, bancontact, ... (receipts show it)."""


def advance(donation: Donation, target: DonationStatus) -> bool:
    """Move to `target` only if it is further along; True when the status changed."""
    if STATUS_RANK[target] <= STATUS_RANK[donation.status]:
        return False
    donation.status = target
    return True


async def _after(session: UnitOfWork, donation: Donation, before: Snapshot) -> Donation:
    """Note the campaign for a totals refresh and call the hook when the settled picture changed."""
    if _snapshot(donation) == before:
        return donation
    session.campaigns_due.add(donation.campaign_id)
    session.before_commit(refresh_campaign_totals)
    first_paid = donation.status in PAID and before[0] not in PAID
    if first_paid:
        session.donations_first_paid.append(donation.id)
    # Facts at the step that makes them true: a replayed event moves nothing, announces nothing.
    await announcements.announce_settlement(
        session, donation, first_paid=first_paid, refunded_before_minor=before[1]
    )
    if donation.status in PAID:
        await hooks.on_donation_settled_changed(session, donation)
    elif donation.status in (DonationStatus.FAILED, DonationStatus.EXPIRED):
        await hooks.on_donation_checkout_closed(session, donation)
    return donation


async def refresh_campaign_totals(session: UnitOfWork) -> None:
    """Recompute raised, donors and matched of each campaign whose donations or matches changed.

    The unit of work runs this once before committing (UnitOfWork.finish): a batch of events
    touching one campaign a hundred times recomputes its totals once. Campaigns are locked in
    id order (two workers never wait on each other in a cycle) and totals are computed from
    scratch after the lock is held, so concurrent units of work cannot lose each other's gifts.
    """
    due, session.campaigns_due = session.campaigns_due, set()
    if not due:
        return
    await session.flush()
    first_paid = await _first_paid_by_campaign(session)
    for campaign_id in sorted(due):
        campaign = await lock_campaign(session, campaign_id)
        campaign.raised_minor, campaign.donor_count = await settled_totals(session, campaign_id)
        # Matches live above donations; their owner computes the matched total (hooks).
        campaign.matched_minor = await hooks.matched_totals().matched_total(session, campaign_id)
        # Open pages hear the new totals (and new gifts) only if this unit commits (hooks).
        await hooks.progress().on_totals_refreshed(session, campaign, first_paid.get(campaign_id, []))
    await session.flush()


async def _first_paid_by_campaign(session: UnitOfWork) -> dict[uuid.UUID, list[Donation]]:
    """The unit's newly paid donations by campaign, in the order they were paid; each is
    announced once (a second refresh in the same unit finds the list emptied)."""
    ids, session.donations_first_paid = session.donations_first_paid, []
    found: dict[uuid.UUID, list[Donation]] = {}
    for donation_id in dict.fromkeys(ids):
        donation = await session.get(Donation, donation_id)  # in the identity map: no query
        if donation is not None:
            found.setdefault(donation.campaign_id, []).append(donation)
    return found


async def _mark_paid(session: UnitOfWork, donation: Donation) -> None:
    """The donor's money arrived: book it once and make the donation at least confirmed.

    Refund and dispute events imply payment too, so they call this as well; whichever
    sibling event comes first books the receipt and the rest find it already booked.
    """
    await bookkeeping.book_receipt(session, donation)
    if donation.confirmed_at is None:
        donation.confirmed_at = session.now()
    advance(donation, DonationStatus.CONFIRMED)


Snapshot = tuple[DonationStatus, int, str | None]


def _snapshot(donation: Donation) -> Snapshot:
    """What campaign totals depend on: status, refunds and the donor (donor_count)."""
    return donation.status, donation.refunded_minor, donation.donor_email


def _link(
    session: UnitOfWork,
    donation: Donation,
    *,
    payment_intent_id: str | None = None,
    charge_id: str | None = None,
) -> None:
    # Stripe ids never change once set; the first one seen is the donation's.
    if payment_intent_id and donation.stripe_payment_intent_id is None:
        donation.stripe_payment_intent_id = payment_intent_id
    if charge_id and donation.stripe_charge_id is None:
        donation.stripe_charge_id = charge_id
    note_stripe_ids(session, donation)


async def link_payment_intent(
    session: UnitOfWork, *, ref: DonationRef, payment_intent_id: str
) -> Donation | None:
    """Record the intent a bound Checkout Session names, changing nothing else.

    The processor does this for a batch's session events before running its handlers, so the
    same payment's charge (which Stripe sends first) is bound and its card facts are in place
    when the session's handler confirms the donation.
    """
    donation = await lock_donation(session, ref)
    if donation is not None:
        _link(session, donation, payment_intent_id=payment_intent_id)
    return donation


async def confirm_donation(
    session: UnitOfWork,
    *,
    ref: DonationRef,
    payment_intent_id: str | None = None,
    donor_email: str | None = None,
) -> Donation | None:
    donation = await lock_donation(session, ref)
    if donation is None:
        return None
    before = _snapshot(donation)
    _link(session, donation, payment_intent_id=payment_intent_id)
    learnt = _learn_email(donation, donor_email)
    await _mark_paid(session, donation)
    await _after(session, donation, before)
    await _email_learnt(session, donation, learnt=learnt, paid_before=before[0] in PAID)
    return donation


def _learn_email(donation: Donation, donor_email: str | None) -> bool:
    """Keep the first email an event tells (a donation's email never changes); True if new."""
    if donor_email and donation.donor_email is None:
        donation.donor_email = donor_email.strip().lower()[:320]
        return True
    return False


async def _email_learnt(session: UnitOfWork, donation: Donation, *, learnt: bool, paid_before: bool) -> None:
    """A donation first paid in this step announces its confirmation with the email it now has;
    one paid earlier without an email announces nothing again, so the receipts plug issues the
    receipt that confirmation could not (Stripe may send the intent's success, which carries no
    email, in an earlier batch than the session event that does)."""
    if learnt and paid_before:
        await hooks.on_donation_email_learnt(session, donation)


async def _move(
    session: UnitOfWork, ref: DonationRef, target: DonationStatus, payment_intent_id: str | None
) -> Donation | None:
    donation = await lock_donation(session, ref)
    if donation is None:
        return None
    before = _snapshot(donation)
    _link(session, donation, payment_intent_id=payment_intent_id)
    advance(donation, target)
    return await _after(session, donation, before)


async def mark_processing(
    session: UnitOfWork,
    *,
    ref: DonationRef,
    payment_intent_id: str | None = None,
    donor_email: str | None = None,
) -> Donation | None:
    """Checkout completed with a delayed method; the money is not there yet. The session names
    the donor's email: kept now, so the confirmation that follows can issue the receipt."""
    donation = await lock_donation(session, ref)
    if donation is None:
        return None
    before = _snapshot(donation)
    _link(session, donation, payment_intent_id=payment_intent_id)
    learnt = _learn_email(donation, donor_email)
    advance(donation, DonationStatus.PROCESSING)
    await _after(session, donation, before)
    await _email_learnt(session, donation, learnt=learnt, paid_before=before[0] in PAID)
    return donation


async def fail_donation(
    session: UnitOfWork, *, ref: DonationRef, payment_intent_id: str | None = None
) -> Donation | None:
    return await _move(session, ref, DonationStatus.FAILED, payment_intent_id)


async def expire_donation(
    session: UnitOfWork, *, ref: DonationRef, payment_intent_id: str | None = None
) -> Donation | None:
    return await _move(session, ref, DonationStatus.EXPIRED, payment_intent_id)


async def record_charge(session: UnitOfWork, *, ref: DonationRef, charge: ChargeFacts) -> Donation | None:
    """Card fingerprint, Radar risk and Stripe's fee; the charge alone does not confirm."""
    donation = await lock_donation(session, ref)
    if donation is None:
        return None
    _link(session, donation, payment_intent_id=charge.payment_intent_id, charge_id=charge.charge_id)
    if donation.stripe_charge_id != charge.charge_id:
        return donation
    facts = (donation.card_fingerprint, donation.risk_score, donation.risk_level)
    donation.card_fingerprint = donation.card_fingerprint or charge.card_fingerprint
    if donation.risk_score is None:
        donation.risk_score = charge.risk_score
    donation.risk_level = donation.risk_level or charge.risk_level
    donation.payment_method_type = donation.payment_method_type or charge.payment_method_type
    if charge.fee_minor is not None:
        donation.stripe_fee_minor = charge.fee_minor
        await bookkeeping.book_stripe_fee(
            session, donation, charge_id=charge.charge_id, fee_minor=charge.fee_minor
        )
    if (donation.card_fingerprint, donation.risk_score, donation.risk_level) != facts:
        await hooks.on_donation_facts_changed(session, donation)
    return donation


async def record_refund(
    session: UnitOfWork, *, ref: DonationRef, stripe_refund_id: str, amount_minor: int, failed: bool
) -> Donation | None:
    """One refund's absolute state: made (pending or succeeded) or failed (money came back)."""
    donation = await lock_donation(session, ref)
    if donation is None:
        return None
    before = _snapshot(donation)
    await _mark_paid(session, donation)
    await bookkeeping.book_refund(
        session, donation, refund_id=stripe_refund_id, amount_minor=amount_minor, failed=failed
    )
    sums = await bookkeeping.donation_sums(session, donation.id)
    donation.refunded_minor = min(max(bookkeeping.net_refunded(sums), 0), donation.charged_minor)
    if donation.refunded_minor >= donation.charged_minor:
        advance(donation, DonationStatus.REFUNDED)
    elif donation.refunded_minor > 0:
        advance(donation, DonationStatus.PARTIALLY_REFUNDED)
    return await _after(session, donation, before)


async def refunds_known(session: UnitOfWork, *, ref: DonationRef, amount_refunded_minor: int) -> bool | None:
    """Whether every refund behind a charge's `amount_refunded` has been recorded (None: no donation).

    A charge only gives the total; the refunds themselves arrive as refund.* events, possibly
    later. Until they have, the charge event must wait rather than guess which refund it was.
    """
    donation = await lock_donation(session, ref)
    if donation is None:
        return None
    sums = await bookkeeping.donation_sums(session, donation.id)
    return sums.get(bookkeeping.Code.REFUND, 0) >= amount_refunded_minor


async def record_dispute(
    session: UnitOfWork,
    *,
    ref: DonationRef,
    stripe_dispute_id: str,
    amount_minor: int,
    withdrawn: bool,
    reinstated: bool,
    status: str | None = None,
) -> Donation | None:
    """A dispute exists; funds withdrawn and reinstated are booked once each, in either order.

    `status` is Stripe's dispute status when the event tells it; won and lost are final."""
    donation = await lock_donation(session, ref)
    if donation is None:
        return None
    before = _snapshot(donation)
    await _mark_paid(session, donation)
    advance(donation, DonationStatus.DISPUTED)
    opened, closed = announcements.move_dispute(donation, status)
    if withdrawn or reinstated:
        await bookkeeping.book_dispute(
            session, donation, dispute_id=stripe_dispute_id, amount_minor=amount_minor, reinstated=reinstated
        )
    await _after(session, donation, before)
    await announcements.announce_dispute(session, donation, opened=opened, closed=closed)
    return donation


async def record_early_fraud_warning(session: UnitOfWork, *, ref: DonationRef) -> Donation | None:
    donation = await lock_donation(session, ref)
    if donation is None:
        return None
    if not donation.early_fraud_warning:
        donation.early_fraud_warning = True
        await hooks.on_donation_facts_changed(session, donation)
    return donation


async def record_transfer(
    session: UnitOfWork,
    *,
    ref: DonationRef,
    stripe_transfer_id: str,
    amount_minor: int,
    reversed_minor: int,
) -> Donation | None:
    """Stripe moved (part of) a destination charge to the nonprofit's connected account."""
    donation = await lock_donation(session, ref)
    if donation is None:
        return None
    await bookkeeping.book_transfer(
        session,
        donation,
        transfer_id=stripe_transfer_id,
        amount_minor=amount_minor,
        reversed_minor=reversed_minor,
    )
    return donation
