"""Invoices of subscriptions: drafted, finalized, paid or declined, retried, given up on.

Shapes and event orders are the contract in `subscriptions`' docstring. Every function runs
with the state lock held and returns the events it emitted, in the order Stripe sends them.
A subscription's status follows its invoices (active <-> past_due, then canceled or unpaid
when Stripe's retries run out), so those transitions live here too.
"""

from __future__ import annotations

import copy
import secrets
import string
from datetime import UTC, datetime

from service.money import format_money
from service.stripe_sandbox import objects
from service.stripe_sandbox.errors import StripeApiError, invalid_param
from service.stripe_sandbox.objects import Obj
from service.stripe_sandbox.payments import (
    DECLINING_CARDS,
    DEFAULT_RISK_SCORE,
    decline_charge,
    normalise_card,
    settle_charge,
)
from service.stripe_sandbox.state import SandboxState

MAX_PAYMENT_ATTEMPTS = 4
"""Stripe's default Smart Retries: the first attempt plus three retries."""
RETRY_AFTER_S = (3 * 86400, 5 * 86400, 7 * 86400)
"""When the next automatic attempt is due after failed attempt 1, 2 and 3."""
AFTER_RETRIES = ("cancel", "unpaid")
"""Stripe's "if all retries for a payment fail" subscription settings the sandbox offers."""
PAYABLE = frozenset({"open", "uncollectible"})
FAILS_LATER_CARD = "4000000000000341"
"""Stripe's test card that can be saved but whose charges are declined (renewals fail)."""
CHARGES_DECLINED = DECLINING_CARDS | {FAILS_LATER_CARD}


_BRANDS = {"3": "amex", "4": "visa", "5": "mastercard", "6": "discover"}


def display_amount(amount: int, currency: str) -> str:
    try:
        return format_money(amount, currency)
    except (KeyError, ValueError):
        return f"{amount} {currency.upper()} (minor units)"


def display_day(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%-d %B %Y")


def _no_address() -> Obj:
    return dict.fromkeys(("city", "country", "line1", "line2", "postal_code", "state"))


def new_payment_method(state: SandboxState, *, card_number: str, customer: str, email: str | None) -> Obj:
    """A card saved on the customer; the sandbox remembers its number to charge it later."""
    card = normalise_card(card_number)
    pm = objects.from_fixture(
        "payment_method",
        id=objects.new_id("pm_1"),
        billing_details={
            "address": _no_address(),
            "email": email,
            "name": "Sandbox Donor",
            "phone": None,
            "tax_id": None,
        },
        created=objects.now(),
        customer=customer,
        metadata={},
    )
    pm["card"].update(
        brand=_BRANDS.get(card[0], "visa"),
        display_brand=_BRANDS.get(card[0], "visa"),
        last4=card[-4:],
        fingerprint=objects.card_fingerprint(card),
        generated_from=None,
        wallet=None,
    )
    state.cards[pm["id"]] = card
    return state.put(pm)


def new_customer(state: SandboxState, *, email: str | None, currency: str, locale: str | None) -> Obj:
    prefix = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(8))
    return state.put(
        objects.from_fixture(
            "customer",
            id=objects.new_id("cus_", 14),
            address=_no_address(),
            created=objects.now(),
            currency=currency,
            discount=None,
            email=email,
            invoice_prefix=prefix,
            invoice_settings={
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            metadata={},
            name="Sandbox Donor",
            next_invoice_sequence=1,
            preferred_locales=[locale] if locale else [],
            shipping=None,
        )
    )


def _line(state: SandboxState, invoice_id: str, sub: Obj, period: tuple[int, int]) -> Obj:
    item = sub["items"]["data"][0]
    price = item["price"]
    amount = price["unit_amount"] * item["quantity"]
    line: Obj = copy.deepcopy(objects.from_fixture("invoice")["lines"]["data"][0])
    per = display_amount(price["unit_amount"], price["currency"])
    name = state.billing[sub["id"]].product_name
    interval = price["recurring"]["interval"]
    line.update(
        id=objects.new_id("il_1"),
        amount=amount,
        currency=price["currency"],
        description=f"{item['quantity']} \u00d7 {name} (at {per} / {interval})",
        invoice=invoice_id,
        livemode=False,
        metadata={},
        period={"start": period[0], "end": period[1]},
        quantity=item["quantity"],
        subscription=sub["id"],
        parent={
            "type": "subscription_item_details",
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": sub["id"],
                "subscription_item": item["id"],
            },
        },
        pricing={
            "type": "price_details",
            "price_details": {"price": price["id"], "product": price["product"]},
            "unit_amount_decimal": str(price["unit_amount"]),
        },
        subtotal=amount,
    )
    return line


def draft_invoice(
    state: SandboxState,
    sub: Obj,
    *,
    billing_reason: str,
    period: tuple[int, int],
    billed: tuple[int, int],
) -> Obj:
    """A draft for `billed` (the subscription period it charges); `period` is Stripe's own."""
    customer = state.get("customer", sub["customer"])
    invoice_id = objects.new_id("in_1")
    line = _line(state, invoice_id, sub, billed)
    amount = line["amount"]
    invoice = objects.from_fixture(
        "invoice",
        id=invoice_id,
        account_name="Goodloop (Stripe sandbox)",
        amount_due=amount,
        amount_overpaid=0,
        amount_paid=0,
        amount_remaining=amount,
        attempt_count=0,
        attempted=False,
        auto_advance=True,
        billing_reason=billing_reason,
        created=objects.now(),
        currency=line["currency"],
        customer=customer["id"],
        customer_address=None,
        customer_email=customer["email"],
        customer_name=customer["name"],
        customer_shipping=None,
        default_payment_method=None,
        description=None,
        due_date=None,
        effective_at=None,
        from_invoice=None,
        hosted_invoice_url=None,
        last_finalization_error=None,
        lines={
            "object": "list",
            "data": [line],
            "has_more": False,
            "url": f"/v1/invoices/{invoice_id}/lines",
        },
        metadata={},
        next_payment_attempt=None,
        number=None,
        parent={
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {
                "metadata": dict(sub["metadata"]),
                "subscription": sub["id"],
                "subscription_proration_date": None,
            },
        },
        period_end=period[1],
        period_start=period[0],
        shipping_cost=None,
        shipping_details=None,
        status="draft",
        status_transitions={
            "finalized_at": None,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        subtotal=amount,
        subtotal_excluding_tax=amount,
        total=amount,
        total_excluding_tax=amount,
        webhooks_delivered_at=None,
    )
    # Removed from the API in 2025 ("basil"): the link is parent.subscription_details.
    invoice.pop("subscription", None)
    return state.put(invoice)


def finalize(state: SandboxState, invoice: Obj, *, base_url: str, destination: str | None) -> None:
    """Open the invoice: its number, hosted page, and the payment intent that will pay it."""
    customer = state.get("customer", invoice["customer"])
    sequence = customer["next_invoice_sequence"]
    customer["next_invoice_sequence"] = sequence + 1
    pi = objects.payment_intent(
        amount=invoice["amount_due"], currency=invoice["currency"], metadata={}, destination=destination
    )
    first = invoice["billing_reason"] == "subscription_create"
    pi.update(
        customer=customer["id"],
        description="Subscription creation" if first else "Subscription update",
        payment_method_types=["card"],
    )
    state.put(pi)
    payment = objects.from_fixture(
        "invoice_payment",
        id=objects.new_id("inpay_1"),
        amount_paid=None,
        amount_requested=invoice["amount_due"],
        created=objects.now(),
        currency=invoice["currency"],
        invoice=invoice["id"],
        is_default=True,
        payment={
            "type": "payment_intent",
            "payment_intent": pi["id"],
            "charge": None,
            "payment_record": None,
        },
        status="open",
        status_transitions={"canceled_at": None, "paid_at": None},
    )
    state.put(payment)
    invoice.update(
        status="open",
        number=f"{customer['invoice_prefix']}-{sequence:04d}",
        hosted_invoice_url=f"{base_url}/invoices/{invoice['id']}",
        effective_at=objects.now(),
    )
    invoice["status_transitions"]["finalized_at"] = objects.now()


def default_payment(state: SandboxState, invoice_id: str) -> Obj:
    for obj in state.objects.values():
        if obj.get("object") == "invoice_payment" and obj["invoice"] == invoice_id and obj["is_default"]:
            return obj
    raise StripeApiError(f"Invoice {invoice_id} has no payment.", status_code=500, type="api_error")


def payments_of(state: SandboxState, invoice_id: str) -> list[Obj]:
    return [
        obj
        for obj in state.objects.values()
        if obj.get("object") == "invoice_payment" and obj["invoice"] == invoice_id
    ]


def subscription_of(state: SandboxState, invoice: Obj) -> Obj:
    return state.get("subscription", invoice["parent"]["subscription_details"]["subscription"])


def set_status(state: SandboxState, sub: Obj, status: str) -> list[Obj]:
    if sub["status"] == status:
        return []
    previous = {"status": sub["status"]}
    sub["status"] = status
    return [state.emit("customer.subscription.updated", sub, previous=previous)]


def end_subscription(state: SandboxState, sub: Obj, *, reason: str, request: Obj | None = None) -> list[Obj]:
    at = objects.now()
    sub.update(status="canceled", canceled_at=sub["canceled_at"] or at, ended_at=at)
    sub["cancellation_details"]["reason"] = reason
    return [state.emit("customer.subscription.deleted", sub, request=request)]


def attempt_payment(
    state: SandboxState,
    invoice: Obj,
    *,
    card_number: str,
    automatic: bool,
    decline: bool = False,
    then: str = "cancel",
) -> list[Obj]:
    """One attempt to charge the invoice's payment intent with a card: a new charge each time.

    `automatic`: Stripe's own attempt (renewal, retry), which counts towards giving up; the
    donor's own attempt on the hosted page does not schedule or cancel anything.
    """
    if invoice["status"] not in PAYABLE:
        raise StripeApiError(f"Invoice is already {invoice['status']}.", code="invoice_not_open")
    card = normalise_card(card_number)
    payment = default_payment(state, invoice["id"])
    pi = state.get("payment_intent", payment["payment"]["payment_intent"])
    ch = objects.charge(
        pi,
        details=objects.card_details(card),
        status="pending",
        risk_score=DEFAULT_RISK_SCORE,
        balance_transaction=None,
    )
    customer = state.get("customer", invoice["customer"])
    pm_id = customer["invoice_settings"]["default_payment_method"]
    ch.update(customer=customer["id"], description=pi["description"], payment_method=pm_id)
    state.put(ch)
    pi["latest_charge"] = ch["id"]
    invoice["attempt_count"] += 1
    invoice["attempted"] = True
    if decline or card in CHARGES_DECLINED:
        return _declined(state, invoice, pi, ch, automatic=automatic, then=then)
    settle_charge(state, pi, ch, "card")
    pi["payment_method"] = pm_id
    at = objects.now()
    invoice.update(
        status="paid", amount_paid=invoice["amount_due"], amount_remaining=0, next_payment_attempt=None
    )
    invoice["status_transitions"]["paid_at"] = at
    payment.update(status="paid", amount_paid=invoice["amount_due"])
    payment["status_transitions"]["paid_at"] = at
    events = [
        state.emit("charge.succeeded", ch),
        state.emit("payment_intent.succeeded", pi),
        state.emit("invoice_payment.paid", payment),
        state.emit("invoice.paid", invoice),
        state.emit("invoice.payment_succeeded", invoice),
    ]
    sub = subscription_of(state, invoice)
    if sub["status"] in ("past_due", "unpaid"):
        events += set_status(state, sub, "active")
    return events


def _declined(
    state: SandboxState, invoice: Obj, pi: Obj, ch: Obj, *, automatic: bool, then: str
) -> list[Obj]:
    decline_charge(ch, pi)
    attempts = invoice["attempt_count"]
    runs_out = attempts >= MAX_PAYMENT_ATTEMPTS
    if automatic:
        invoice["next_payment_attempt"] = None if runs_out else objects.now() + RETRY_AFTER_S[attempts - 1]
    events = [
        state.emit("charge.failed", ch),
        state.emit("payment_intent.payment_failed", pi),
        state.emit("invoice.payment_failed", invoice),
    ]
    sub = subscription_of(state, invoice)
    if not automatic or sub["status"] == "canceled":
        return events
    if not runs_out:
        return events + set_status(state, sub, "past_due")
    return events + _give_up(state, invoice, sub, then=then)


def _give_up(state: SandboxState, invoice: Obj, sub: Obj, *, then: str) -> list[Obj]:
    """Stripe's "if all retries for a payment fail" setting, applied when the last one fails."""
    if then == "unpaid":
        return set_status(state, sub, "unpaid")
    invoice["status"] = "uncollectible"
    invoice["status_transitions"]["marked_uncollectible_at"] = objects.now()
    return [
        state.emit("invoice.marked_uncollectible", invoice),
        *end_subscription(state, sub, reason="payment_failed"),
    ]


def _card_of(state: SandboxState, customer: Obj) -> str:
    pm_id = customer["invoice_settings"]["default_payment_method"]
    return state.cards.get(pm_id or "", "4242424242424242")


def retry(state: SandboxState, invoice_id: str, *, succeed: bool, then: str = "cancel") -> list[Obj]:
    """Stripe's next automatic attempt on an open invoice, with the customer's saved card."""
    invoice = state.get("invoice", invoice_id)
    if invoice["status"] != "open" or invoice["next_payment_attempt"] is None:
        raise StripeApiError(f"Invoice {invoice_id} has no automatic payment attempt left.")
    customer = state.get("customer", invoice["customer"])
    return attempt_payment(
        state, invoice, card_number=_card_of(state, customer), automatic=True, decline=not succeed, then=then
    )


def exhaust_retries(state: SandboxState, subscription_id: str, *, then: str) -> list[Obj]:
    """Every remaining automatic attempt on the subscription's open invoice fails, now."""
    if then not in AFTER_RETRIES:
        raise invalid_param("then", "then must be 'cancel' or 'unpaid'")
    sub = state.get("subscription", subscription_id)
    invoice = state.find("invoice", sub["latest_invoice"] or "")
    if invoice is None or invoice["status"] != "open" or invoice["next_payment_attempt"] is None:
        raise StripeApiError(f"Subscription {subscription_id} has no failed invoice being retried.")
    events: list[Obj] = []
    while invoice["status"] == "open" and invoice["next_payment_attempt"] is not None:
        events += retry(state, invoice["id"], succeed=False, then=then)
    return events


def pay_with_card(state: SandboxState, invoice_id: str, *, card_number: str) -> list[Obj]:
    """The donor pays an open invoice on its hosted page; the card becomes their default."""
    invoice = state.get("invoice", invoice_id)
    if invoice["status"] not in PAYABLE:
        raise StripeApiError(f"This invoice is {invoice['status']} and cannot be paid.")
    customer = state.get("customer", invoice["customer"])
    pm = new_payment_method(state, card_number=card_number, customer=customer["id"], email=customer["email"])
    customer["invoice_settings"]["default_payment_method"] = pm["id"]
    subscription_of(state, invoice)["default_payment_method"] = pm["id"]
    return attempt_payment(state, invoice, card_number=card_number, automatic=False)
