"""The sandbox's memory: every object, event and idempotent response, per app instance.

Everything lives in process memory and is lost when the server restarts; that is the point
of a sandbox. One asyncio lock serialises every mutation, so concurrent requests (two
retries with the same idempotency key, a click racing a control call) see a consistent store.
Handlers that mutate state are plain functions called with the lock held: nothing awaits in
between, so a request is atomic.
"""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass, field

import stripe

from service.stripe_sandbox import objects
from service.stripe_sandbox.errors import resource_missing
from service.stripe_sandbox.events import Deliverer
from service.stripe_sandbox.objects import Obj

# The noun Stripe uses in "No such <noun>" errors, by the object's `object` field.
_NOUNS = {
    "checkout.session": "checkout.session",
    "payment_intent": "payment_intent",
    "charge": "charge",
    "refund": "refund",
    "transfer": "transfer",
    "transfer_reversal": "transfer_reversal",
    "account": "account",
    "event": "event",
    "balance_transaction": "balance transaction",
    "dispute": "dispute",
    "radar.early_fraud_warning": "early fraud warning",
    "customer": "customer",
    "subscription": "subscription",
    "invoice": "invoice",
    "invoice_payment": "invoice payment",
}


@dataclass
class StoredResponse:
    fingerprint: str
    status_code: int
    body: Obj


@dataclass
class SessionExtras:
    """What Stripe keeps about a Checkout Session but does not show on the object."""

    line_items: list[Obj]
    payment_intent_metadata: Obj
    destination: str | None


@dataclass
class AccountLinkRecord:
    account: str
    refresh_url: str
    return_url: str
    expires_at: int
    used: bool = False


@dataclass
class RecurringExtras:
    """What a subscription-mode Checkout Session carries into the subscription it creates."""

    interval: str
    subscription_metadata: Obj
    description: str | None
    base_url: str
    """The sandbox's address as the caller saw it: hosted invoice and portal pages live there."""


@dataclass
class BillingRecord:
    """The sandbox's own notes on a subscription: where its hosted pages live, its cycle."""

    base_url: str
    anchor: int
    product_name: str
    cycles: int = 1
    """Billing periods begun so far: period k ends at anchor + k intervals."""


@dataclass
class PortalRecord:
    customer: str
    return_url: str
    expires_at: int


@dataclass
class SandboxState:
    deliverer: Deliverer
    settle_after_s: float | None = None
    """Delayed (SEPA-like) payments settle by themselves after this long; None: only on request."""
    settle_outcome: str = "succeed"
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    objects: dict[str, Obj] = field(default_factory=dict)
    events: list[Obj] = field(default_factory=list)
    idempotency: dict[str, StoredResponse] = field(default_factory=dict)
    sessions: dict[str, SessionExtras] = field(default_factory=dict)
    account_links: dict[str, AccountLinkRecord] = field(default_factory=dict)
    background: set[asyncio.Task[None]] = field(default_factory=set)
    failing_reversals: dict[str, int] = field(default_factory=dict)
    """Per connected account, how many next transfer reversals fail (its balance is too low)."""
    recurring_sessions: dict[str, RecurringExtras] = field(default_factory=dict)
    billing: dict[str, BillingRecord] = field(default_factory=dict)
    """By subscription id."""
    cards: dict[str, str] = field(default_factory=dict)
    """The card number behind each payment method id (Stripe never shows it; renewals need it)."""
    portal_sessions: dict[str, PortalRecord] = field(default_factory=dict)
    """By the secret token in the portal session's url."""

    def put(self, obj: Obj) -> Obj:
        self.objects[obj["id"]] = obj
        return obj

    def find(self, kind: str, object_id: str) -> Obj | None:
        obj = self.objects.get(object_id)
        return obj if obj is not None and obj.get("object") == kind else None

    def get(self, kind: str, object_id: str, *, param: str = "id") -> Obj:
        obj = self.find(kind, object_id)
        if obj is None:
            raise resource_missing(_NOUNS.get(kind, kind), object_id, param=param)
        return obj

    def emit(
        self,
        event_type: str,
        obj: Obj,
        *,
        account: str | None = None,
        request: Obj | None = None,
        previous: Obj | None = None,
    ) -> Obj:
        """Record an event with a snapshot of `obj`; the caller hands the batch to delivery."""
        event = objects.event(
            event_type,
            obj,
            account=account,
            request=request,
            api_version=stripe.api_version,
            previous=previous,
        )
        self.events.append(event)
        self.objects[event["id"]] = event
        return event

    def snapshot(self, obj: Obj) -> Obj:
        return copy.deepcopy(obj)
