"""What a donor does on the checkout page: pay by card, get declined, pay by a delayed method.

Each function mutates the state (lock held by the caller) and returns the events it emitted,
in the order Stripe emits them: charge, then payment intent, then checkout session.
"""

from __future__ import annotations

from service.stripe_sandbox import objects
from service.stripe_sandbox.checkout import expire_if_due
from service.stripe_sandbox.errors import StripeApiError
from service.stripe_sandbox.objects import Obj
from service.stripe_sandbox.state import SandboxState

DEFAULT_CARD = "4242424242424242"
DEFAULT_IBAN = "DE89370400440532013000"
DEFAULT_RISK_SCORE = 12
# Stripe's test cards that always decline.
DECLINING_CARDS = frozenset({"4000000000000002", "4000000000009995", "4000000000000069"})


def normalise_card(card_number: str | None) -> str:
    digits = "".join(ch for ch in (card_number or "") if ch.isdigit())
    if not 12 <= len(digits) <= 19:
        raise StripeApiError(
            "Your card number is incorrect.",
            status_code=402,
            type="card_error",
            code="incorrect_number",
            param="number",
        )
    return digits


def _open_session(state: SandboxState, session_id: str) -> Obj:
    session = state.get("checkout.session", session_id, param="session")
    expire_if_due(state, session)
    if session["status"] != "open":
        raise StripeApiError(f"This Checkout Session is {session['status']} and can no longer be paid.")
    return session


def _payment_intent(state: SandboxState, session: Obj) -> Obj:
    """Stripe creates the PaymentIntent on the first payment attempt, then reuses it."""
    if session["payment_intent"] is not None:
        return state.get("payment_intent", session["payment_intent"])
    extras = state.sessions[session["id"]]
    pi = objects.payment_intent(
        amount=session["amount_total"],
        currency=session["currency"],
        metadata=dict(extras.payment_intent_metadata),
        destination=extras.destination,
    )
    session["payment_intent"] = pi["id"]
    return state.put(pi)


def complete_session(session: Obj, *, paid: bool) -> None:
    session["status"] = "complete"
    session["payment_status"] = "paid" if paid else "unpaid"
    session["url"] = None
    details = objects.from_fixture("checkout.session")["customer_details"]
    details.update(email=session["customer_email"] or "donor@example.com", name="Sandbox Donor")
    session["customer_details"] = details


def settle_charge(state: SandboxState, pi: Obj, ch: Obj, method: str) -> None:
    txn = objects.balance_transaction(
        source=ch["id"], amount=ch["amount"], currency=ch["currency"], method=method
    )
    state.put(txn)
    ch.update(balance_transaction=txn["id"], status="succeeded", paid=True, captured=True)
    ch["amount_captured"] = ch["amount"]
    pi.update(status="succeeded", amount_received=pi["amount"], last_payment_error=None)


def pay_session(
    state: SandboxState,
    session_id: str,
    *,
    card_number: str | None = DEFAULT_CARD,
    risk_score: int = DEFAULT_RISK_SCORE,
) -> list[Obj]:
    card = normalise_card(card_number)
    session = _open_session(state, session_id)
    if card in DECLINING_CARDS:
        return decline_session(state, session_id, card_number=card)
    pi = _payment_intent(state, session)
    ch = objects.charge(
        pi,
        details=objects.card_details(card),
        status="pending",
        risk_score=risk_score,
        balance_transaction=None,
    )
    state.put(ch)
    settle_charge(state, pi, ch, "card")
    pi.update(latest_charge=ch["id"], payment_method=ch["payment_method"], payment_method_types=["card"])
    complete_session(session, paid=True)
    return [
        state.emit("charge.succeeded", ch),
        state.emit("payment_intent.succeeded", pi),
        state.emit("checkout.session.completed", session),
    ]


def decline_charge(ch: Obj, pi: Obj) -> None:
    ch.update(status="failed", paid=False, captured=False, amount_captured=0)
    outcome = ch["outcome"]
    outcome.update(
        network_status="declined_by_network",
        reason="generic_decline",
        seller_message="The bank did not return any further details with this decline.",
        type="issuer_declined",
    )
    ch.update(failure_code="card_declined", failure_message="Your card was declined.")
    pi.update(
        status="requires_payment_method",
        payment_method=None,
        last_payment_error={
            "type": "card_error",
            "code": "card_declined",
            "decline_code": "generic_decline",
            "message": "Your card was declined.",
            "charge": ch["id"],
        },
    )


def decline_session(state: SandboxState, session_id: str, *, card_number: str | None = None) -> list[Obj]:
    """The card is declined: a failed charge, a failed PaymentIntent; the session stays open."""
    session = _open_session(state, session_id)
    card = normalise_card(card_number or "4000000000000002")
    pi = _payment_intent(state, session)
    ch = objects.charge(
        pi,
        details=objects.card_details(card),
        status="failed",
        risk_score=DEFAULT_RISK_SCORE,
        balance_transaction=None,
    )
    decline_charge(ch, pi)
    state.put(ch)
    pi["latest_charge"] = ch["id"]
    return [state.emit("charge.failed", ch), state.emit("payment_intent.payment_failed", pi)]


def start_delayed_payment(state: SandboxState, session_id: str, *, iban: str = DEFAULT_IBAN) -> list[Obj]:
    """A SEPA-like debit: the session completes unpaid and the money arrives (or not) later."""
    session = _open_session(state, session_id)
    pi = _payment_intent(state, session)
    ch = objects.charge(
        pi,
        details=objects.sepa_details(iban),
        status="pending",
        risk_score=DEFAULT_RISK_SCORE,
        balance_transaction=None,
    )
    ch.update(paid=False, captured=True)
    state.put(ch)
    pi.update(
        status="processing",
        latest_charge=ch["id"],
        payment_method=ch["payment_method"],
        payment_method_types=["sepa_debit"],
        processing=None,
    )
    complete_session(session, paid=False)
    return [
        state.emit("charge.pending", ch),
        state.emit("payment_intent.processing", pi),
        state.emit("checkout.session.completed", session),
    ]


def settle_delayed_payment(state: SandboxState, session_id: str, *, succeed: bool) -> list[Obj]:
    session = state.get("checkout.session", session_id, param="session")
    pi_id = session["payment_intent"]
    pi = state.find("payment_intent", pi_id) if pi_id else None
    if session["status"] != "complete" or pi is None or pi["status"] != "processing":
        raise StripeApiError("This Checkout Session has no delayed payment waiting to settle.")
    ch = state.get("charge", pi["latest_charge"])
    if succeed:
        settle_charge(state, pi, ch, "sepa_debit")
        session["payment_status"] = "paid"
        return [
            state.emit("charge.succeeded", ch),
            state.emit("payment_intent.succeeded", pi),
            state.emit("checkout.session.async_payment_succeeded", session),
        ]
    decline_charge(ch, pi)
    pi["last_payment_error"].update(type="invalid_request_error", code="payment_method_unactivated")
    return [
        state.emit("charge.failed", ch),
        state.emit("payment_intent.payment_failed", pi),
        state.emit("checkout.session.async_payment_failed", session),
    ]
