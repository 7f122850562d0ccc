"""Billing Portal sessions and what a customer does in the portal: new card, cancel, keep.

Like Stripe's default portal configuration: cancelling ends the subscription at the end of
the period (the donor can take it back until then), and a new card pays an invoice that is
still open at once. The session's `url` carries an unguessable token and works for an hour.
"""

from __future__ import annotations

import secrets

from service.stripe_sandbox import invoices, objects, subscription_changes
from service.stripe_sandbox.errors import StripeApiError, missing_param
from service.stripe_sandbox.objects import Obj
from service.stripe_sandbox.payments import DECLINING_CARDS, normalise_card
from service.stripe_sandbox.state import PortalRecord, SandboxState

PORTAL_TTL_S = 60 * 60
LIVE = frozenset({"active", "past_due", "unpaid", "incomplete", "trialing"})


def create_session(state: SandboxState, params: Obj, *, sandbox_base: str) -> Obj:
    if not params.get("customer"):
        raise missing_param("customer")
    customer = state.get("customer", params["customer"], param="customer")
    created = objects.now()
    token = secrets.token_urlsafe(24)
    return_url = params.get("return_url") or None
    state.portal_sessions[token] = PortalRecord(
        customer=customer["id"], return_url=return_url or "", expires_at=created + PORTAL_TTL_S
    )
    return objects.from_fixture(
        "billing_portal.session",
        id=objects.new_id("bps_1"),
        after_expiration=None,
        configuration=objects.new_id("bpc_1"),
        created=created,
        customer=customer["id"],
        customer_account=None,
        flow=None,
        locale=params.get("locale") or None,
        on_behalf_of=None,
        return_url=return_url,
        url=f"{sandbox_base}/billing_portal/{token}",
    )


def usable(record: PortalRecord) -> bool:
    return objects.now() < record.expires_at


def subscriptions_of(state: SandboxState, customer_id: str) -> list[Obj]:
    return [
        obj
        for obj in state.objects.values()
        if obj.get("object") == "subscription" and obj["customer"] == customer_id and obj["status"] in LIVE
    ]


def invoices_of(state: SandboxState, customer_id: str) -> list[Obj]:
    found = [
        obj
        for obj in state.objects.values()
        if obj.get("object") == "invoice" and obj["customer"] == customer_id and obj["status"] != "draft"
    ]
    return list(reversed(found))


def owned_subscription(state: SandboxState, customer_id: str, subscription_id: str) -> Obj:
    sub = state.find("subscription", subscription_id)
    if sub is None or sub["customer"] != customer_id:
        raise StripeApiError("No such subscription for this customer.", status_code=404)
    return sub


def update_card(state: SandboxState, customer_id: str, *, card_number: str) -> list[Obj]:
    """The new card becomes the default everywhere, then pays what is still open."""
    card = normalise_card(card_number)
    if card in DECLINING_CARDS:
        # Stripe checks a card when it is saved; 4000 0000 0000 0341 saves and fails later.
        raise StripeApiError(
            "Your card was declined.", status_code=402, type="card_error", code="card_declined"
        )
    customer = state.get("customer", customer_id)
    pm = invoices.new_payment_method(state, card_number=card, customer=customer_id, email=customer["email"])
    previous = {"invoice_settings": dict(customer["invoice_settings"])}
    customer["invoice_settings"]["default_payment_method"] = pm["id"]
    events = [state.emit("customer.updated", customer, previous=previous)]
    for sub in subscriptions_of(state, customer_id):
        old = sub["default_payment_method"]
        sub["default_payment_method"] = pm["id"]
        events.append(
            state.emit("customer.subscription.updated", sub, previous={"default_payment_method": old})
        )
        latest = state.find("invoice", sub["latest_invoice"] or "")
        if latest is not None and latest["status"] == "open":
            events += invoices.attempt_payment(state, latest, card_number=card, automatic=False)
    return events


def cancel_at_period_end(
    state: SandboxState, customer_id: str, subscription_id: str, *, cancel: bool
) -> list[Obj]:
    owned_subscription(state, customer_id, subscription_id)
    return subscription_changes.set_cancel_at_period_end(state, subscription_id, cancel)
