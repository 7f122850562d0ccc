"""Stripe events for tests, built from Stripe's published object shapes and signed as Stripe signs.

Each builder deep-copies the example object from data/stripe_objects.json and overrides only
what a scenario needs, so handlers are exercised against the real field layout.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
import uuid
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from campaigns.donations.models import Donation

DATA = Path(__file__).parent / "data" / "stripe_objects.json"
JSON = dict[str, Any]


@cache
def _objects() -> JSON:
    loaded: JSON = json.loads(DATA.read_text())
    return loaded


def example(kind: str) -> JSON:
    obj: JSON = copy.deepcopy(_objects()[kind])
    return obj


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def event(
    event_type: str,
    obj: JSON,
    *,
    event_id: str | None = None,
    livemode: bool = False,
    account: str | None = None,
    created: int | None = None,
) -> JSON:
    envelope = example("event")
    envelope.update(
        id=event_id or new_id("evt"),
        type=event_type,
        livemode=livemode,
        created=created if created is not None else int(time.time()),
        api_version="2025-10-29.clover",
        data={"object": obj},
    )
    if account is not None:
        envelope["account"] = account
    return envelope


def sign(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """The Stripe-Signature header: t=<ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<payload>")>."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def encode(evt: JSON) -> bytes:
    return json.dumps(evt, separators=(",", ":")).encode()


def signed_headers(payload: bytes, secret: str, *, timestamp: int | None = None) -> dict[str, str]:
    return {
        "Stripe-Signature": sign(payload, secret, timestamp=timestamp),
        "Content-Type": "application/json",
    }


# Objects for one donation: the ids a real payment shares across its sibling objects.


class Payment:
    """The Stripe side of one donation: session, intent and charge with consistent ids."""

    def __init__(
        self,
        *,
        donation_id: uuid.UUID,
        session_id: str,
        amount_minor: int,
        currency: str,
        destination: str | None = None,
    ) -> None:
        self.donation_id = str(donation_id)
        self.session_id = session_id
        self.payment_intent_id = new_id("pi")
        self.charge_id = new_id("ch")
        self.amount_minor = amount_minor
        self.currency = currency
        self.destination = destination
        """The connected account a destination charge pays (the donation's destination_account_id)."""

    @classmethod
    def for_donation(cls, donation: Donation) -> Payment:
        """The payment of a donation checkout created (its session id, what it charges)."""
        assert donation.stripe_checkout_session_id is not None
        return cls(
            donation_id=donation.id,
            session_id=donation.stripe_checkout_session_id,
            amount_minor=donation.charged_minor,
            currency=donation.currency,
        )

    @property
    def metadata(self) -> dict[str, str]:
        return {"donation_id": self.donation_id}

    def checkout_session(
        self, *, payment_status: str = "paid", status: str = "complete", email: str = "donor@example.org"
    ) -> JSON:
        obj = example("checkout.session")
        obj.update(
            id=self.session_id,
            payment_intent=self.payment_intent_id,
            payment_status=payment_status,
            status=status,
            amount_total=self.amount_minor,
            currency=self.currency,
            metadata=self.metadata,
            mode="payment",
            submit_type="donate",
        )
        obj["customer_details"]["email"] = email
        return obj

    def payment_intent(self, *, status: str = "succeeded") -> JSON:
        obj = example("payment_intent")
        obj.update(
            id=self.payment_intent_id,
            amount=self.amount_minor,
            amount_received=self.amount_minor if status == "succeeded" else 0,
            currency=self.currency,
            status=status,
            latest_charge=self.charge_id,
            metadata=self.metadata,
        )
        return obj

    def charge(
        self,
        *,
        amount_refunded: int = 0,
        fee_minor: int | None = None,
        refunds: list[JSON] | None = None,
        fingerprint: str | None = None,
        risk_score: int = 23,
    ) -> JSON:
        obj = example("charge")
        obj.update(
            id=self.charge_id,
            amount=self.amount_minor,
            amount_captured=self.amount_minor,
            amount_refunded=amount_refunded,
            refunded=amount_refunded >= self.amount_minor,
            captured=True,
            currency=self.currency,
            payment_intent=self.payment_intent_id,
            metadata=self.metadata,
        )
        obj["outcome"].update(risk_level="normal" if risk_score < 65 else "elevated", risk_score=risk_score)
        if fingerprint is not None:
            obj["payment_method_details"]["card"]["fingerprint"] = fingerprint
        if fee_minor is not None:
            balance = example("balance_transaction")
            balance.update(fee=fee_minor, amount=self.amount_minor, currency=self.currency)
            obj["balance_transaction"] = balance
        if refunds is not None:
            obj["refunds"]["data"] = refunds
        return obj

    def refund(self, *, refund_id: str, amount_minor: int, status: str = "succeeded") -> JSON:
        obj = example("refund")
        obj.update(
            id=refund_id,
            amount=amount_minor,
            charge=self.charge_id,
            payment_intent=self.payment_intent_id,
            currency=self.currency,
            status=status,
        )
        return obj

    def dispute(self, *, dispute_id: str, status: str = "needs_response") -> JSON:
        obj = example("dispute")
        obj.update(
            id=dispute_id,
            amount=self.amount_minor,
            charge=self.charge_id,
            payment_intent=self.payment_intent_id,
            currency=self.currency,
            status=status,
        )
        return obj

    def early_fraud_warning(self) -> JSON:
        obj = example("radar.early_fraud_warning")
        obj.update(id=new_id("issfr"), charge=self.charge_id, payment_intent=self.payment_intent_id)
        return obj

    def transfer(self, *, transfer_id: str, destination: str | None = None, amount_reversed: int = 0) -> JSON:
        """The destination charge's transfer: to the donation's own destination unless told otherwise."""
        obj = example("transfer")
        obj.update(
            id=transfer_id,
            amount=self.amount_minor,
            amount_reversed=amount_reversed,
            reversed=amount_reversed >= self.amount_minor,
            currency=self.currency,
            destination=destination or self.destination,
            source_transaction=self.charge_id,
        )
        return obj


def account(
    *, account_id: str, charges_enabled: bool, payouts_enabled: bool, currently_due: list[str]
) -> JSON:
    obj = example("account")
    obj.update(
        id=account_id,
        charges_enabled=charges_enabled,
        payouts_enabled=payouts_enabled,
        details_submitted=True,
    )
    obj["requirements"]["currently_due"] = currently_due
    return obj
