"""Binding: is this Stripe object the payment Goodloop created for a donation?

A signature only proves that Stripe sent the event, not that the payment in it is the one a
donor made for our donation: any connected account's events are signed with the Connect
secret, and anyone paying anything on the platform can put our donation's id in metadata.
So a donation is found only by the Stripe ids we recorded (the Checkout Session at checkout,
the PaymentIntent its session event names, the charge of that intent), and the object must
then agree with it: same amount as the donor was charged (at most that, for refunds,
disputes and transfers), same currency, the expected account. metadata.donation_id is only
a cross-check. Anything else is written down as a payment mismatch and changes nothing.

An object we have not linked yet but that names one of our donations may be early (Stripe
sends the charge before the session event that links its intent; checkout records the
session after Stripe created it): it waits (NotYetKnown) while that is plausible, and is a
mismatch at once when the donation already has another payment or can no longer get one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import Enum
from typing import Any

from campaigns.donations.mismatches import Mismatch, MismatchReason, SeenEvent, record_mismatch
from campaigns.donations.models import Donation, DonationStatus
from campaigns.donations.repository import DonationRef, lock_donation
from service.logging import get_logger
from service.unit_of_work import UnitOfWork
from webhooks.errors import NotYetKnown
from webhooks.events import StripeEvent, stripe_id
from webhooks.handlers.common import metadata_donation_id

log = get_logger("goodloop.webhooks")


class Unlinked(Enum):
    """What to do with an object none of our recorded ids point at."""

    WAIT = "wait"
    """Retry while the donation it names may still get this payment linked; else a mismatch."""
    SKIP = "skip"
    """Like WAIT, but a plausible early object changes nothing anyway: note it and move on."""
    RETRY = "retry"
    """It names a charge, which must turn up (refunds, disputes, warnings, transfers)."""


class Amount(Enum):
    EXACT = "exact"
    """Must equal what the donor was charged (sessions, intents, charges)."""
    AT_MOST = "at_most"
    """May not exceed it (refunds, disputes, transfers)."""
    NONE = "none"
    """The object carries no amount (early fraud warnings)."""


@dataclass(frozen=True)
class Claim:
    """What an event's object says about the payment it is."""

    object_id: str | None
    keys: DonationRef
    """Our recorded Stripe ids to look the donation up by; never metadata."""
    unlinked: Unlinked
    amount_rule: Amount
    amount_minor: int | None
    currency: str | None
    metadata: dict[str, Any] | None
    payment_intent_id: str | None = None
    charge_id: str | None = None
    checks_destination: bool = False
    destination: str | None = None

    @property
    def claimed_id(self) -> uuid.UUID | None:
        return metadata_donation_id({"metadata": self.metadata})

    @property
    def names_a_donation(self) -> bool:
        return isinstance(self.metadata, dict) and "donation_id" in self.metadata


def _int(obj: dict[str, Any], key: str) -> int | None:
    value = obj.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) else None


def _metadata(obj: dict[str, Any]) -> dict[str, Any] | None:
    metadata = obj.get("metadata")
    return metadata if isinstance(metadata, dict) else None


def session_claim(obj: dict[str, Any]) -> Claim:
    return Claim(
        object_id=stripe_id(obj.get("id")),
        keys=DonationRef(checkout_session_id=stripe_id(obj.get("id"))),
        unlinked=Unlinked.WAIT,
        amount_rule=Amount.EXACT,
        amount_minor=_int(obj, "amount_total"),
        currency=_str(obj, "currency"),
        metadata=_metadata(obj),
        payment_intent_id=stripe_id(obj.get("payment_intent")),
    )


def payment_intent_claim(obj: dict[str, Any], *, unlinked: Unlinked = Unlinked.WAIT) -> Claim:
    return Claim(
        object_id=stripe_id(obj.get("id")),
        keys=DonationRef(payment_intent_id=stripe_id(obj.get("id"))),
        unlinked=unlinked,
        amount_rule=Amount.EXACT,
        amount_minor=_int(obj, "amount"),
        currency=_str(obj, "currency"),
        metadata=_metadata(obj),
        payment_intent_id=stripe_id(obj.get("id")),
    )


def charge_claim(obj: dict[str, Any]) -> Claim:
    charge_id, intent_id = stripe_id(obj.get("id")), stripe_id(obj.get("payment_intent"))
    return Claim(
        object_id=charge_id,
        keys=DonationRef(payment_intent_id=intent_id, charge_id=charge_id),
        unlinked=Unlinked.WAIT,
        amount_rule=Amount.EXACT,
        amount_minor=_int(obj, "amount"),
        currency=_str(obj, "currency"),
        metadata=_metadata(obj),
        payment_intent_id=intent_id,
        charge_id=charge_id,
    )


def child_of_charge_claim(obj: dict[str, Any], *, has_amount: bool = True) -> Claim:
    """Refunds, disputes and early fraud warnings: they name the charge (and usually the intent)."""
    charge_id, intent_id = stripe_id(obj.get("charge")), stripe_id(obj.get("payment_intent"))
    return Claim(
        object_id=stripe_id(obj.get("id")),
        keys=DonationRef(payment_intent_id=intent_id, charge_id=charge_id),
        unlinked=Unlinked.RETRY,
        amount_rule=Amount.AT_MOST if has_amount else Amount.NONE,
        amount_minor=_int(obj, "amount"),
        currency=_str(obj, "currency") if has_amount else None,
        metadata=_metadata(obj),
        payment_intent_id=intent_id,
        charge_id=charge_id,
    )


def transfer_claim(obj: dict[str, Any]) -> Claim:
    """A destination charge's transfer: it must go to the account the donation named at checkout."""
    charge_id = stripe_id(obj.get("source_transaction"))
    return Claim(
        object_id=stripe_id(obj.get("id")),
        keys=DonationRef(charge_id=charge_id),
        unlinked=Unlinked.RETRY,
        amount_rule=Amount.AT_MOST,
        amount_minor=_int(obj, "amount"),
        currency=_str(obj, "currency"),
        metadata=_metadata(obj),
        charge_id=charge_id,
        checks_destination=True,
        destination=stripe_id(obj.get("destination")),
    )


def ref(donation: Donation) -> DonationRef:
    """How a handler hands a bound donation to the settlement use cases: by our own id."""
    return DonationRef(donation_id=donation.id)


async def bind(session: UnitOfWork, event: StripeEvent, claim: Claim) -> Donation | None:
    """The donation this payment is bound to, locked; None when it is no payment of ours to apply.

    None covers a payment that names none of our donations (someone else's sale on the same
    account) and a mismatch, which is recorded here. Raises NotYetKnown to retry later.
    """
    donation = await lock_donation(session, claim.keys) if _has_keys(claim.keys) else None
    if donation is None:
        await _unlinked(session, event, claim)
        return None
    problem = _disagreement(event, claim, donation) or _metadata_problem(claim, donation)
    if problem is None:
        problem = _sibling_problem(claim, donation)
    if problem is not None:
        await _record(session, event, claim, problem)
        return None
    return donation


def _has_keys(keys: DonationRef) -> bool:
    return any((keys.checkout_session_id, keys.payment_intent_id, keys.charge_id))


async def _unlinked(session: UnitOfWork, event: StripeEvent, claim: Claim) -> None:
    if claim.unlinked is Unlinked.RETRY:
        raise NotYetKnown(f"the donation of {claim.object_id} is not known yet")
    if not claim.names_a_donation:
        # A payment on the same account that Goodloop did not make: not ours to judge.
        return None
    claimed_id = claim.claimed_id
    claimed = await lock_donation(session, DonationRef(donation_id=claimed_id)) if claimed_id else None
    if claimed is None:
        detail = f"{claim.object_id} names a donation that does not exist"
        await _record(session, event, claim, Mismatch(MismatchReason.UNKNOWN_PAYMENT, detail))
        return None
    problem = _disagreement(event, claim, claimed) or _already_paid_otherwise(claim, claimed)
    if problem is not None:
        await _record(session, event, claim, problem)
        return None
    if claim.unlinked is Unlinked.SKIP:
        log.info("early payment object not linked yet; its session decides", event_id=event.id)
        return None
    raise NotYetKnown(f"{claim.object_id} is not known yet: donation {claimed.id} has not linked it")


def _already_paid_otherwise(claim: Claim, donation: Donation) -> Mismatch | None:
    """None while this payment may still become the donation's; else why it never will."""
    if claim.keys.checkout_session_id is not None:
        recorded = donation.stripe_checkout_session_id
    else:
        recorded = donation.stripe_payment_intent_id
    if recorded is None and donation.status is DonationStatus.PENDING:
        return None
    what = f"has {recorded}" if recorded else f"is {donation.status.value} without it"
    return Mismatch(
        MismatchReason.UNKNOWN_PAYMENT,
        f"{claim.object_id} is not the payment made for this donation, which {what}",
        donation_id=donation.id,
    )


def _disagreement(event: StripeEvent, claim: Claim, donation: Donation) -> Mismatch | None:
    """Account, currency, amount and destination: what the payment itself must share."""
    expected_account = donation.destination_account_id
    if event.account is not None and event.account != expected_account:
        where = expected_account or "the platform account"
        return Mismatch(
            MismatchReason.WRONG_ACCOUNT,
            f"sent by {event.account}; this donation's payment is on {where}",
            donation_id=donation.id,
            expected_account_id=expected_account,
        )
    if claim.amount_rule is not Amount.NONE and claim.currency != donation.currency:
        return Mismatch(
            MismatchReason.WRONG_CURRENCY,
            f"paid in {claim.currency}, the donation is in {donation.currency}",
            donation_id=donation.id,
            expected_currency=donation.currency,
            received_currency=claim.currency,
        )
    if _wrong_amount(claim, donation.charged_minor):
        return Mismatch(
            MismatchReason.WRONG_AMOUNT,
            f"{claim.amount_minor} for a donation charged {donation.charged_minor}",
            donation_id=donation.id,
            expected_amount_minor=donation.charged_minor,
            received_amount_minor=claim.amount_minor,
            expected_currency=donation.currency,
            received_currency=claim.currency,
        )
    if claim.checks_destination and claim.destination != donation.destination_account_id:
        return Mismatch(
            MismatchReason.WRONG_ACCOUNT,
            f"transferred to {claim.destination}, the donation's destination is {expected_account}",
            donation_id=donation.id,
            expected_account_id=expected_account,
        )
    return None


def _wrong_amount(claim: Claim, charged_minor: int) -> bool:
    if claim.amount_rule is Amount.NONE:
        return False
    if claim.amount_minor is None or claim.amount_minor < 0:
        return True
    if claim.amount_rule is Amount.EXACT:
        return claim.amount_minor != charged_minor
    return claim.amount_minor > charged_minor


def _metadata_problem(claim: Claim, donation: Donation) -> Mismatch | None:
    if not claim.names_a_donation or claim.claimed_id == donation.id:
        return None
    return Mismatch(
        MismatchReason.METADATA_DISAGREES,
        f"{claim.object_id} is donation {donation.id}'s payment but its metadata names another",
        donation_id=donation.id,
    )


def _sibling_problem(claim: Claim, donation: Donation) -> Mismatch | None:
    """The intent and charge the object names must be the ones recorded for the donation, if any."""
    for named, recorded in (
        (claim.payment_intent_id, donation.stripe_payment_intent_id),
        (claim.charge_id, donation.stripe_charge_id),
    ):
        if named and recorded and named != recorded:
            return Mismatch(
                MismatchReason.UNKNOWN_PAYMENT,
                f"{claim.object_id} names {named}; the donation's payment is {recorded}",
                donation_id=donation.id,
            )
    return None


async def _record(session: UnitOfWork, event: StripeEvent, claim: Claim, mismatch: Mismatch) -> None:
    seen = SeenEvent(
        stripe_event_id=event.id,
        event_type=event.type,
        stripe_account_id=event.account,
        stripe_object_id=claim.object_id,
        claimed_donation_id=claim.claimed_id,
    )
    await record_mismatch(session, event=seen, mismatch=mismatch)
    log.warning(
        "payment mismatch",
        event_id=event.id,
        event_type=event.type,
        reason=mismatch.reason.value,
        donation_id=str(mismatch.donation_id) if mismatch.donation_id else None,
    )
