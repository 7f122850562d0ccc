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
- `{"outcome": "fail"}`: the card is declined. The invoice stays `open` with
  `attempt_count=1`, `attempted=True`, `next_payment_attempt` (3 days later),
  `hosted_invoice_url`; the subscription goes `past_due`. Events:
      invoice.created, customer.subscription.updated (status active -> past_due),
      invoice.finalized, charge.failed, payment_intent.payment_failed, invoice.payment_failed
- `POST /_control/invoices/{id}/retry` `{"outcome": "succeed"|"fail"}`: Stripe's automatic
  retry. Success: charge.succeeded, payment_intent.succeeded, invoice_payment.paid,
  invoice.paid, invoice.payment_succeeded, customer.subscription.updated (past_due ->
  active). Failure: charge.failed, payment_intent.payment_failed, invoice.payment_failed
  (attempt_count + 1; the 4th failed attempt has `next_payment_attempt=None` and runs out).
- `POST /_control/subscriptions/{id}/exhaust_retries` `{"then": "cancel"|"unpaid"}` (default
  "cancel"): every remaining attempt fails now (invoice.payment_failed per attempt, the last
  with `next_payment_attempt=None`), then, as Stripe's "if all retries fail" setting says:
  "cancel" -> the invoice is marked uncollectible (invoice.marked_uncollectible) and the
  subscription canceled (`cancellation_details.reason="payment_failed"`):
  customer.subscription.deleted; "unpaid" -> the invoice stays open and the subscription
  becomes `unpaid`: customer.subscription.updated.
- `POST /_control/invoices/{id}/pay` `{"card_number": "4242..."}`: what the donor does on the
  hosted invoice page (`hosted_invoice_url`, GET/POST `/invoices/{id}`): pays the open
  invoice with another card (the customer's default card becomes it). Events as a successful
  retry. A declining card: charge.failed, payment_intent.payment_failed, invoice.payment_failed.

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
  Cancelling twice is Stripe's 400 (resource already canceled).
- `stripe.Invoice.retrieve(id, expand=["payments"])`, `stripe.Invoice.list(subscription=,
  customer=, status=, limit=)` (newest first), `stripe.InvoicePayment.retrieve(id)`,
  `stripe.InvoicePayment.list(invoice=)`, `stripe.Customer.retrieve(id)`.
- `stripe.billing_portal.Session.create(customer="cus_...", return_url=..., locale=optional)`:
  `{"object": "billing_portal.session", "id": "bps_...", "customer", "return_url", "url",
  "configuration": "bpc_...", "flow": None, "locale", "created", "livemode": False}`. `url`
  opens the sandbox Billing Portal page (valid one hour), which lists the customer's
  subscriptions (amount per interval, next payment or end date, status), card and invoices;
  "Update card" sets the new default card (customer.updated, customer.subscription.updated
  with default_payment_method) and, when an invoice is open, pays it at once (events as a
  successful retry); "Cancel" (with a confirm step) cancels at period end like Stripe's
  default portal configuration (customer.subscription.updated, cancel_at_period_end True);
  "Don't cancel" undoes it; "Return to <site>" goes to return_url.

Refunds of one installment work like one-off refunds: `stripe.Refund.create(payment_intent=
"pi_..." | charge="ch_...")` -> charge.refunded + refund.created.
"""

from __future__ import annotations

INTERVALS = ("day", "week", "month", "year")
MAX_PAYMENT_ATTEMPTS = 4
"""Stripe's default Smart Retries: the first attempt plus three retries."""
RETRY_AFTER_S = (3 * 86400, 5 * 86400, 7 * 86400)
"""When the next automatic attempt is due after failed attempt 1, 2 and 3."""
