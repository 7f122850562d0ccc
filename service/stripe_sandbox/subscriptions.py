"""Recurring gifts in the sandbox: subscription-mode Checkout, customers, subscriptions, renewals.

This docstring is the contract S2 (webhook handlers, `campaigns/recurring`) and P (the donor
portal) code against. Shapes follow Stripe's published objects (`fixtures3.json`) for the API
version the pinned SDK sends (`stripe.api_version`, 16.1.0: "2026-10-28.endive"), so the
modern ("basil" and later) shape holds: an invoice has NO top-level `subscription`,
`payment_intent` or `charge`; a charge and a payment intent have NO `invoice`; a subscription
has NO top-level `current_period_start/end` (they live on `items.data[0]`). The one link from an
invoice to its money is the `invoice_payment` object (event `invoice_payment.paid`).

Checkout (the real SDK: `stripe.checkout.Session.create(...)`)
---------------------------------------------------------------
    mode="subscription",
    line_items=[{"price_data": {"currency": "eur", "unit_amount": 1000,
                                "product_data": {"name": "Monthly gift to <campaign>"},
                                "recurring": {"interval": "month"}},   # day|week|month|year
                 "quantity": 1}],                                        # interval_count: 1
    subscription_data={"metadata": {...},                  # copied to the subscription and
                       "transfer_data": {"destination": "acct_..."},  # every invoice's parent
                       "description": optional},
    customer_email=..., metadata={...}, success_url=..., cancel_url=..., locale="nl"|"en"|...,
    client_reference_id=optional, custom_text=optional, expires_at=optional,
    idempotency_key=...            # honoured exactly as for mode=payment (same key + other
                                   # params -> idempotency_error; same key + same -> replay)
Refused as Stripe refuses them: `payment_intent_data` and `submit_type` (payment mode only),
more than one line item, a line item without `recurring`, an unknown interval.
The open session: `mode="subscription"`, `payment_intent=None`, `subscription=None`,
`customer=None`, `invoice=None`, `amount_total=unit_amount`, `currency`, `locale`, `url` (the
sandbox checkout page, which shows "€10.00 per month"). `metadata` is the session's own
(not copied to the subscription: only `subscription_data.metadata` is).

Paying it (page button "Subscribe" or `POST /_control/sessions/{id}/pay`)
------------------------------------------------------------------------
Creates, all test-mode, ids with Stripe's prefixes:
- customer `cus_...`: `email` = customer_email (or "donor@example.com"), `name`
  "Sandbox Donor", `invoice_settings.default_payment_method` = the card's `pm_...`.
- subscription `sub_...`: `status="active"`, `customer`, `metadata` =
  subscription_data.metadata, `transfer_data={"amount_percent": None, "destination": acct}`,
  `collection_method="charge_automatically"`, `cancel_at_period_end=False`, `cancel_at=None`,
  `canceled_at=None`, `ended_at=None`, `cancellation_details={"comment": None,
  "feedback": None, "reason": None}`, `start_date`, `billing_cycle_anchor`, `currency`,
  `default_payment_method="pm_..."`, `latest_invoice="in_..."`, `description`, and
  `items.data[0]` = {`id` "si_...", `object` "subscription_item", `quantity` 1,
  `current_period_start`, `current_period_end` (one interval later, calendar months/years,
  day clamped like Stripe), `price` {`id` "price_...", `product` "prod_...", `unit_amount`,
  `currency`, `type` "recurring", `recurring` {`interval`, `interval_count` 1}}}.
- invoice `in_...` (billing_reason `subscription_create`), paid at once: `status="paid"`,
  `amount_due` = `amount_paid` = `total` = amount, `amount_remaining=0`, `currency`,
  `customer`, `customer_email`, `attempt_count=1`, `attempted=True`,
  `next_payment_attempt=None`, `number` "<prefix>-0001" (per customer),
  `hosted_invoice_url` (sandbox page `/invoices/{id}`), `period_start`/`period_end` (Stripe's:
  equal to `created` on the first invoice, the past period on renewals),
  `status_transitions.finalized_at/paid_at`,
  `parent={"type": "subscription_details", "quote_details": None,
           "subscription_details": {"subscription": "sub_...", "metadata": {...snapshot of
           the subscription's metadata...}, "subscription_proration_date": None}}`,
  `lines.data[0]` = {`amount`, `currency`, `period` {start, end: the billed period},
  `subscription` "sub_...", `parent.subscription_item_details.subscription/subscription_item`,
  `pricing.price_details.price/product`}. `payments` is absent from events (Stripe includes it
  only when expanded: `Invoice.retrieve(id, expand=["payments"])`).
- invoice_payment `inpay_...`: `invoice` "in_...", `amount_requested`, `amount_paid`,
  `currency`, `is_default=True`, `status="paid"`, `payment={"type": "payment_intent",
  "payment_intent": "pi_...", "charge": None, "payment_record": None}`,
  `status_transitions.paid_at`.
- payment intent `pi_...`: `amount`, `currency`, `status="succeeded"`, `customer`,
  `description="Subscription creation"` (renewals: "Subscription update"), `metadata={}` (Stripe
  does NOT copy subscription metadata onto invoice payments: bind by ids, see
  `invoice_payment`), `transfer_data={"destination": acct}`, `latest_charge` "ch_...".
- charge `ch_...`: `payment_intent`, `customer`, `transfer_data`, `balance_transaction`,
  `status="succeeded"`, card details (last4, fingerprint), `metadata={}`.
- the session becomes `status="complete"`, `payment_status="paid"`, `subscription` "sub_...",
  `customer` "cus_...", `invoice` "in_...", `payment_intent=None`, `customer_details.email`.
Events, one batch, delivered in this order (signed, to `/webhooks/stripe`, no `account`):
    customer.created, customer.subscription.created, invoice.created (draft),
    invoice.finalized (open), charge.succeeded, payment_intent.succeeded,
    invoice_payment.paid, invoice.paid, invoice.payment_succeeded, checkout.session.completed
Handlers must not rely on this order (Stripe does not promise one, and the delivery policy
`reverse` / `duplicate` reorders and repeats it). A declined card on the page ("Decline", or
4000 0000 0000 0002) leaves the session open and creates and emits nothing, as Checkout
does; there is no delayed (SEPA) path in subscription mode.

Renewals and failures (`/_control/...`, JSON; also buttons on the Billing Portal page)
--------------------------------------------------------------------------------------
The sandbox never moves time by itself: a renewal happens when asked, and moves the
subscription's period forward one interval (current_period_start = old end).
- `POST /_control/subscriptions/{id}/renew` `{"outcome": "succeed"}` (default): a new invoice
  (billing_reason `subscription_cycle`, amount = the item's current price), paid with the
  customer's card. Events:
      invoice.created, customer.subscription.updated (previous_attributes: items),
      invoice.finalized, charge.succeeded, payment_intent.succeeded, invoice_payment.paid,
      invoice.paid, invoice.payment_succeeded
  With `cancel_at_period_end=True` the renewal instead ends the subscription (status
  "canceled", `ended_at`, `canceled_at`, `cancellation_details.reason` "cancellation_requested"):
      customer.subscription.deleted
- `{"outcome": "fail"}` (or the saved card is 4000 0000 0000 0341, which saves but never
  pays): the card is declined. The invoice stays `open` with `attempt_count=1`,
  `attempted=True`, `next_payment_attempt` (3 days later), `hosted_invoice_url`; the
  subscription goes `past_due`. Events:
      invoice.created, customer.subscription.updated (previous_attributes: items),
      invoice.finalized, charge.failed, payment_intent.payment_failed, invoice.payment_failed,
      customer.subscription.updated (status active -> past_due)
- `POST /_control/invoices/{id}/retry` `{"outcome": "succeed"|"fail", "then": "cancel"|"unpaid"}`
  (`then` applies when this attempt is the last one and fails): Stripe's automatic
  retry with the saved card, on the same payment intent (a new charge per attempt). Success:
  charge.succeeded, payment_intent.succeeded, invoice_payment.paid, invoice.paid,
  invoice.payment_succeeded, customer.subscription.updated (past_due -> active). Failure:
  charge.failed, payment_intent.payment_failed, invoice.payment_failed (attempt_count + 1,
  next_payment_attempt 5 then 7 days later; the 4th failed attempt has
  `next_payment_attempt=None` and runs out: see exhaust_retries for what follows).
- `POST /_control/subscriptions/{id}/exhaust_retries` `{"then": "cancel"|"unpaid"}` (default
  "cancel"): every remaining attempt fails now (charge.failed, payment_intent.payment_failed,
  invoice.payment_failed per attempt, the last with `next_payment_attempt=None`), then, as
  Stripe's "if all retries fail" setting says:
  "cancel" -> the invoice is marked uncollectible (invoice.marked_uncollectible) and the
  subscription canceled (`cancellation_details.reason="payment_failed"`):
  customer.subscription.deleted; "unpaid" -> the invoice stays open and the subscription
  becomes `unpaid`: customer.subscription.updated.
- `POST /_control/invoices/{id}/pay` `{"card_number": "4242..."}`: what the donor does on the
  hosted invoice page (`hosted_invoice_url`, GET/POST `/invoices/{id}`): pays the open
  invoice (open, or uncollectible) with another card (the customer's default card becomes
  it). Events as a successful retry (a canceled subscription stays canceled). A declining
  card: charge.failed, payment_intent.payment_failed, invoice.payment_failed, and nothing else
  (the donor's own attempts never cancel anything).

API (the real SDK; every POST honours `idempotency_key`)
--------------------------------------------------------
- `stripe.Subscription.retrieve(id)`, `stripe.Subscription.list(customer=, status=)`.
- `stripe.Subscription.modify(id, items=[{"id": "si_...", "price_data": {"currency": "eur",
  "unit_amount": 2500, "product": "prod_..." (Stripe requires the product id here: take
  `items.data[0].price.product`), "recurring": {"interval": "month"}}}],
  proration_behavior="none")`: a new price on the same item; the next renewal charges it (the
  sandbox never prorates, whatever proration_behavior says). `cancel_at_period_end=True|False`
  sets/clears `cancel_at` (= current_period_end) and `cancellation_details.reason`
  ("cancellation_requested" / None); `metadata` merges; `cancellation_details[comment|feedback]`.
  Emits customer.subscription.updated with `previous_attributes`. A canceled subscription
  cannot be modified (400, as Stripe).
- `stripe.Subscription.cancel(id)` (DELETE): status "canceled" now, `canceled_at` = `ended_at`
  = now, `cancellation_details.reason="cancellation_requested"`: customer.subscription.deleted.
  Cancelling twice is an error (404, code resource_missing), nothing is emitted.
- `stripe.Invoice.retrieve(id, expand=["payments"])`, `stripe.Invoice.list(subscription=,
  customer=, status=, limit=)` (newest first), `stripe.InvoicePayment.retrieve(id)`,
  `stripe.InvoicePayment.list(invoice=)`, `stripe.Customer.retrieve(id)`,
  `stripe.PaymentMethod.retrieve(id)`. Lists take `limit` (<= 100) and `starting_after`.
- `stripe.billing_portal.Session.create(customer="cus_...", return_url=..., locale=optional)`:
  `{"object": "billing_portal.session", "id": "bps_...", "customer", "return_url", "url",
  "configuration": "bpc_...", "flow": None, "locale", "created", "livemode": False}`. `url`
  opens the sandbox Billing Portal page (valid one hour), which lists the customer's
  subscriptions (amount per interval, next payment or end date, status), card and invoices;
  "Update card" sets the new default card (customer.updated, then per live subscription
  customer.subscription.updated with previous_attributes.default_payment_method) and, when
  its latest invoice is open, pays it at once (events as a successful retry; a card that
  declines at once, 4000 0000 0000 0002, is refused and changes nothing); "Cancel" (with a
  confirm step) cancels at period end like Stripe's default portal configuration
  (customer.subscription.updated: cancel_at_period_end True, cancel_at, canceled_at,
  cancellation_details.reason "cancellation_requested"); "Don't cancel" undoes it (the same
  event, back to False/None); "Return to Goodloop" goes to return_url.

Refunds of one installment work like one-off refunds: `stripe.Refund.create(payment_intent=
"pi_..." | charge="ch_...")` -> charge.refunded + refund.created.
"""

from __future__ import annotations

import calendar
import copy
from datetime import UTC, datetime
from typing import NoReturn

from service.stripe_sandbox import checkout, invoices, objects
from service.stripe_sandbox.checkout import string_map
from service.stripe_sandbox.errors import StripeApiError, invalid_param
from service.stripe_sandbox.objects import Obj
from service.stripe_sandbox.payments import DEFAULT_CARD, complete_session, normalise_card
from service.stripe_sandbox.state import BillingRecord, RecurringExtras, SandboxState

INTERVALS = ("day", "week", "month", "year")
RENEWABLE = frozenset({"active", "past_due"})
_PAYMENT_ONLY = ("payment_intent_data", "submit_type")


def shift(anchor: int, interval: str, count: int) -> int:
    """`count` intervals after `anchor`; a month past the 31st lands on the month's last day."""
    if interval == "day":
        return anchor + count * 86400
    if interval == "week":
        return anchor + count * 7 * 86400
    start = datetime.fromtimestamp(anchor, UTC)
    years, month0 = divmod(start.month - 1 + count * (12 if interval == "year" else 1), 12)
    year, month = start.year + years, month0 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return int(start.replace(year=year, month=month, day=day).timestamp())


def _interval(params: Obj) -> str:
    items = params.get("line_items")
    if isinstance(items, list) and len(items) > 1:
        raise invalid_param("line_items", "The sandbox takes one line item in subscription mode.")
    first = items[0] if isinstance(items, list) and items else None
    price_data = first.get("price_data") if isinstance(first, dict) else None
    recurring = price_data.get("recurring") if isinstance(price_data, dict) else None
    if not isinstance(recurring, dict):
        raise StripeApiError(
            "You must specify at least one recurring price in `subscription` mode when using prices.",
            param="line_items[0][price_data][recurring]",
        )
    interval = recurring.get("interval")
    if interval not in INTERVALS:
        raise invalid_param("line_items[0][price_data][recurring][interval]", f"Invalid interval: {interval}")
    if str(recurring.get("interval_count", "1")) != "1":
        raise invalid_param(
            "line_items[0][price_data][recurring][interval_count]", "The sandbox bills every one interval."
        )
    return str(interval)


def create_session(state: SandboxState, params: Obj, *, checkout_base: str) -> Obj:
    """A subscription-mode Checkout Session: checkout's validation plus the recurring parts."""
    for name in _PAYMENT_ONLY:
        if name in params:
            raise invalid_param(name, f"You can not pass `{name}` in `subscription` mode.")
    interval = _interval(params)
    sub_data = params.get("subscription_data") or {}
    if not isinstance(sub_data, dict):
        raise invalid_param("subscription_data", "Invalid hash: subscription_data")
    transfer_data = sub_data.get("transfer_data") or {}
    destination = transfer_data.get("destination") if isinstance(transfer_data, dict) else None
    if destination is not None:
        state.get("account", destination, param="subscription_data[transfer_data][destination]")
    metadata = string_map(sub_data.get("metadata"), "subscription_data[metadata]")
    session = checkout.create_session(state, params, checkout_base=checkout_base)
    session.update(payment_method_types=["card"], payment_method_collection="always")
    extras = state.sessions[session["id"]]
    extras.destination = destination
    for line in extras.line_items:
        line["price"]["recurring"] = {"interval": interval, "interval_count": 1}
    state.recurring_sessions[session["id"]] = RecurringExtras(
        interval=interval,
        subscription_metadata=metadata,
        description=sub_data.get("description") if isinstance(sub_data.get("description"), str) else None,
        base_url=checkout_base,
    )
    return session


def is_recurring(state: SandboxState, session_id: str) -> bool:
    return session_id in state.recurring_sessions


def _item(
    sub_id: str, *, unit_amount: int, currency: str, interval: str, product: str, period: tuple[int, int]
) -> Obj:
    item: Obj = copy.deepcopy(objects.from_fixture("subscription")["items"]["data"][0])
    created = objects.now()
    item.update(
        id=objects.new_id("si_", 14),
        billing_thresholds=None,
        created=created,
        current_period_start=period[0],
        current_period_end=period[1],
        discounts=[],
        metadata={},
        price=new_price(unit_amount=unit_amount, currency=currency, interval=interval, product=product),
        quantity=1,
        subscription=sub_id,
        tax_rates=[],
    )
    item["plan"] = plan_of(item["price"])
    return item


def new_price(*, unit_amount: int, currency: str, interval: str, product: str) -> Obj:
    price: Obj = copy.deepcopy(objects.from_fixture("subscription")["items"]["data"][0]["price"])
    price.update(
        id=objects.new_id("price_1"),
        created=objects.now(),
        currency=currency,
        custom_unit_amount=None,
        livemode=False,
        metadata={},
        product=product,
        recurring={
            "interval": interval,
            "interval_count": 1,
            "meter": None,
            "usage_type": "licensed",
            "trial_period_days": None,
        },
        transform_quantity=None,
        unit_amount=unit_amount,
        unit_amount_decimal=str(unit_amount),
    )
    return price


def plan_of(price: Obj) -> Obj:
    """The legacy `plan` Stripe still mirrors on every subscription item."""
    return {
        "id": price["id"],
        "object": "plan",
        "active": True,
        "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": "per_unit",
        "created": price["created"],
        "currency": price["currency"],
        "interval": price["recurring"]["interval"],
        "interval_count": 1,
        "livemode": False,
        "metadata": {},
        "meter": None,
        "nickname": None,
        "product": price["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": "licensed",
    }


def _new_subscription(state: SandboxState, session: Obj, customer: Obj, pm: Obj) -> Obj:
    recurring = state.recurring_sessions[session["id"]]
    extras = state.sessions[session["id"]]
    line = extras.line_items[0]
    start = objects.now()
    sub_id = objects.new_id("sub_1")
    period = (start, shift(start, recurring.interval, 1))
    item = _item(
        sub_id,
        unit_amount=line["price"]["unit_amount"],
        currency=session["currency"],
        interval=recurring.interval,
        product=objects.new_id("prod_", 14),
        period=period,
    )
    sub = objects.from_fixture(
        "subscription",
        id=sub_id,
        automatic_tax={"enabled": False, "liability": None, "disabled_reason": None},
        billing_cycle_anchor=start,
        billing_cycle_anchor_config=None,
        billing_schedules=[],
        billing_thresholds=None,
        cancel_at=None,
        cancel_at_period_end=False,
        canceled_at=None,
        cancellation_details={"comment": None, "feedback": None, "reason": None},
        created=start,
        currency=session["currency"],
        customer=customer["id"],
        default_payment_method=pm["id"],
        description=recurring.description,
        ended_at=None,
        items={
            "object": "list",
            "data": [item],
            "has_more": False,
            "total_count": 1,
            "url": f"/v1/subscription_items?subscription={sub_id}",
        },
        latest_invoice=None,
        managed_payments=None,
        metadata=dict(recurring.subscription_metadata),
        next_pending_invoice_item_invoice=None,
        pause_collection=None,
        pending_invoice_item_interval=None,
        pending_update=None,
        start_date=start,
        status="active",
        transfer_data={"amount_percent": None, "destination": extras.destination}
        if extras.destination
        else None,
        trial_end=None,
        trial_settings={"end_behavior": {"missing_payment_method": "create_invoice"}},
        trial_start=None,
    )
    state.billing[sub_id] = BillingRecord(
        base_url=recurring.base_url, anchor=start, product_name=str(line["description"])
    )
    return state.put(sub)


def _destination(sub: Obj) -> str | None:
    transfer_data = sub.get("transfer_data")
    return transfer_data["destination"] if transfer_data else None


def pay_session(state: SandboxState, session_id: str, *, card_number: str | None = DEFAULT_CARD) -> list[Obj]:
    """The donor subscribes: customer, subscription and its first invoice, paid at once."""
    card = normalise_card(card_number)
    session = state.get("checkout.session", session_id, param="session")
    checkout.expire_if_due(state, session)
    if session["status"] != "open":
        raise StripeApiError(f"This Checkout Session is {session['status']} and can no longer be paid.")
    if card in invoices.CHARGES_DECLINED:
        return decline_session(state, session_id)
    email = session["customer_email"] or "donor@example.com"
    customer = invoices.new_customer(
        state, email=email, currency=session["currency"], locale=session["locale"]
    )
    pm = invoices.new_payment_method(state, card_number=card, customer=customer["id"], email=email)
    customer["invoice_settings"]["default_payment_method"] = pm["id"]
    sub = _new_subscription(state, session, customer, pm)
    start = sub["start_date"]
    invoice = invoices.draft_invoice(
        state, sub, billing_reason="subscription_create", period=(start, start), billed=current_period(sub)
    )
    sub["latest_invoice"] = invoice["id"]
    events = [
        state.emit("customer.created", customer),
        state.emit("customer.subscription.created", sub),
        state.emit("invoice.created", invoice),
    ]
    invoices.finalize(
        state, invoice, base_url=state.billing[sub["id"]].base_url, destination=_destination(sub)
    )
    events.append(state.emit("invoice.finalized", invoice))
    events += invoices.attempt_payment(state, invoice, card_number=card, automatic=True)
    complete_session(session, paid=True)
    session.update(customer=customer["id"], subscription=sub["id"], invoice=invoice["id"])
    session["customer_details"]["email"] = email
    return [*events, state.emit("checkout.session.completed", session)]


def decline_session(state: SandboxState, session_id: str) -> NoReturn:
    """Checkout shows the decline and keeps the session open; nothing is created or emitted."""
    state.get("checkout.session", session_id, param="session")
    raise StripeApiError(
        "Your card was declined.",
        status_code=402,
        type="card_error",
        code="card_declined",
        extra={"decline_code": "generic_decline"},
    )


def current_period(sub: Obj) -> tuple[int, int]:
    item = sub["items"]["data"][0]
    return item["current_period_start"], item["current_period_end"]


def renew(state: SandboxState, subscription_id: str, *, succeed: bool = True) -> list[Obj]:
    """The period ends: the next invoice, charged to the saved card (or the end, if asked)."""
    sub = state.get("subscription", subscription_id)
    if sub["status"] not in RENEWABLE:
        raise StripeApiError(
            f"Subscription {subscription_id} is {sub['status']}; only active or past_due renew."
        )
    if sub["cancel_at_period_end"]:
        return invoices.end_subscription(state, sub, reason="cancellation_requested")
    record = state.billing[subscription_id]
    item = sub["items"]["data"][0]
    interval = item["price"]["recurring"]["interval"]
    past = current_period(sub)
    previous = {"items": copy.deepcopy(sub["items"]), "latest_invoice": sub["latest_invoice"]}
    record.cycles += 1
    item.update(
        current_period_start=past[1], current_period_end=shift(record.anchor, interval, record.cycles)
    )
    invoice = invoices.draft_invoice(
        state, sub, billing_reason="subscription_cycle", period=past, billed=current_period(sub)
    )
    sub["latest_invoice"] = invoice["id"]
    events = [
        state.emit("invoice.created", invoice),
        state.emit("customer.subscription.updated", sub, previous=previous),
    ]
    invoices.finalize(state, invoice, base_url=record.base_url, destination=_destination(sub))
    events.append(state.emit("invoice.finalized", invoice))
    customer = state.get("customer", sub["customer"])
    card = state.cards.get(customer["invoice_settings"]["default_payment_method"] or "", DEFAULT_CARD)
    return events + invoices.attempt_payment(
        state, invoice, card_number=card, automatic=True, decline=not succeed
    )
