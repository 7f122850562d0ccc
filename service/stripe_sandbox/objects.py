"""Stripe objects built from Stripe's own published fixtures, then overridden field by field.

`fixtures.json` holds the handful of objects the sandbox needs, copied from Stripe's
published `fixtures3.json`, so every response has every field Stripe returns.
"""

from __future__ import annotations

import copy
import hashlib
import json
import secrets
import string
import time
from functools import cache
from importlib import resources
from typing import Any

_ALPHABET = string.ascii_letters + string.digits
Obj = dict[str, Any]


@cache
def _fixtures() -> dict[str, Obj]:
    text = resources.files("service.stripe_sandbox").joinpath("fixtures.json").read_text()
    loaded: dict[str, Obj] = json.loads(text)["resources"]
    return loaded


def from_fixture(kind: str, **overrides: Any) -> Obj:
    obj = copy.deepcopy(_fixtures()[kind])
    obj.update(overrides)
    if "livemode" in obj:
        obj["livemode"] = False
    return obj


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def now() -> int:
    return int(time.time())


def card_fingerprint(card_number: str) -> str:
    """Stable per card number, like Stripe's: the same card always has the same fingerprint."""
    digest = hashlib.sha256(f"goodloop-sandbox-card:{card_number}".encode()).digest()
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:16])


def risk_level(risk_score: int) -> str:
    if risk_score >= 75:
        return "highest"
    if risk_score >= 65:
        return "elevated"
    return "normal"


def stripe_fee(amount: int, method: str) -> int:
    """Roughly Stripe's EU/US list price: 2.9% + 30 for cards, 0.8% (max 500) for SEPA."""
    if method == "sepa_debit":
        return min(round(amount * 0.008), 500)
    return round(amount * 0.029) + 30


def empty_list(url: str) -> Obj:
    return {"object": "list", "data": [], "has_more": False, "url": url}


def payment_intent(*, amount: int, currency: str, metadata: Obj, destination: str | None) -> Obj:
    pi_id = new_id("pi_3")
    return from_fixture(
        "payment_intent",
        id=pi_id,
        amount=amount,
        currency=currency,
        amount_details={"tip": {}},
        amount_received=0,
        canceled_at=None,
        client_secret=f"{pi_id}_secret_{new_id('', 25)}",
        created=now(),
        last_payment_error=None,
        latest_charge=None,
        metadata=metadata,
        next_action=None,
        processing=None,
        payment_method_configuration_details=None,
        status="requires_payment_method",
        transfer_data={"destination": destination} if destination else None,
        managed_payments=None,
    )


def card_details(card_number: str) -> Obj:
    details: Obj = copy.deepcopy(_fixtures()["charge"]["payment_method_details"])
    card = details["card"]
    card.update(
        fingerprint=card_fingerprint(card_number),
        last4=card_number[-4:],
        amount_authorized=None,
        wallet=None,
    )
    return details


def sepa_details(iban: str) -> Obj:
    return {
        "type": "sepa_debit",
        "sepa_debit": {
            "bank_code": "37040044",
            "branch_code": None,
            "country": iban[:2].upper(),
            "fingerprint": card_fingerprint(iban),
            "last4": iban[-4:],
            "mandate": new_id("mandate_"),
        },
    }


def charge(pi: Obj, *, details: Obj, status: str, risk_score: int, balance_transaction: str | None) -> Obj:
    ch_id = new_id("ch_3")
    level = risk_level(risk_score)
    succeeded = status == "succeeded"
    return from_fixture(
        "charge",
        id=ch_id,
        amount=pi["amount"],
        amount_captured=pi["amount"] if succeeded else 0,
        amount_refunded=0,
        balance_transaction=balance_transaction,
        billing_details={**_fixtures()["charge"]["billing_details"], "name": None},
        captured=succeeded,
        created=now(),
        currency=pi["currency"],
        description=None,
        metadata=dict(pi["metadata"]),
        outcome={
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network" if status != "failed" else "declined_by_network",
            "reason": None if status != "failed" else "generic_decline",
            "risk_level": level,
            "risk_score": risk_score,
            "seller_message": "Payment complete."
            if status != "failed"
            else "The bank did not return any further details with this decline.",
            "type": "authorized" if status != "failed" else "issuer_declined",
        },
        paid=succeeded,
        payment_intent=pi["id"],
        payment_method=new_id("pm_1"),
        payment_method_details=details,
        receipt_url=None,
        refunds=empty_list(f"/v1/charges/{ch_id}/refunds"),
        shipping=None,
        source=None,
        status=status,
        failure_code="card_declined" if status == "failed" else None,
        failure_message="Your card was declined." if status == "failed" else None,
        transfer_data={"amount": None, "destination": pi["transfer_data"]["destination"]}
        if pi.get("transfer_data")
        else None,
    )


def balance_transaction(*, source: str, amount: int, currency: str, method: str, kind: str = "charge") -> Obj:
    fee = stripe_fee(amount, method) if kind == "charge" else 0
    return from_fixture(
        "balance_transaction",
        id=new_id("txn_3"),
        amount=amount,
        available_on=now() + 2 * 86400,
        created=now(),
        currency=currency,
        description=None,
        fee=fee,
        fee_details=[
            {
                "amount": fee,
                "application": None,
                "currency": currency,
                "description": "Stripe processing fees",
                "type": "stripe_fee",
            }
        ]
        if fee
        else [],
        net=amount - fee,
        reporting_category=kind,
        source=source,
        status="pending",
        type=kind,
    )


def event(
    event_type: str,
    obj: Obj,
    *,
    account: str | None,
    request: Obj | None,
    api_version: str,
    previous: Obj | None,
) -> Obj:
    data: Obj = {"object": copy.deepcopy(obj)}
    if previous is not None:
        data["previous_attributes"] = previous
    evt = from_fixture(
        "event",
        id=new_id("evt_1"),
        api_version=api_version,
        created=now(),
        data=data,
        pending_webhooks=1,
        request=request or {"id": None, "idempotency_key": None},
        type=event_type,
    )
    if account is not None:
        evt["account"] = account
    return evt
