"""Changes to a subscription: a new amount, cancel at period end (or not), cancel now.

`Subscription.modify` and `Subscription.cancel` (billing_api) and the Billing Portal's buttons
come here. Shapes and events: the contract in `subscriptions`' docstring.
"""

from __future__ import annotations

import copy

from service.stripe_sandbox import checkout, invoices, objects, subscriptions
from service.stripe_sandbox.checkout import string_map
from service.stripe_sandbox.errors import StripeApiError, invalid_param, missing_param
from service.stripe_sandbox.objects import Obj
from service.stripe_sandbox.state import SandboxState

PRORATION_BEHAVIORS = frozenset({"none", "create_prorations", "always_invoice"})


def _check_changeable(sub: Obj) -> None:
    if sub["status"] == "canceled":
        raise StripeApiError(
            "A canceled subscription can only update its cancellation_details and metadata.",
            param="subscription",
        )


def _bool(value: object, param: str) -> bool:
    if value in ("true", True):
        return True
    if value in ("false", False):
        return False
    raise invalid_param(param, f"Invalid boolean: {value}")


def _requested_price(sub: Obj, items: object) -> Obj | None:
    """The price `items=[{id, price_data}]` asks for, checked as Stripe checks it."""
    if items is None:
        return None
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
        raise invalid_param("items", "The sandbox changes the one item of a subscription: items[0].")
    item = sub["items"]["data"][0]
    if items[0].get("id") != item["id"]:
        raise invalid_param("items[0][id]", f"No such subscription item: '{items[0].get('id')}'")
    price_data = items[0].get("price_data")
    if not isinstance(price_data, dict):
        raise invalid_param("items[0][price_data]", "The sandbox changes an item through price_data.")
    for name in ("currency", "product", "recurring", "unit_amount"):
        if name not in price_data:
            raise missing_param(f"items[0][price_data][{name}]")
    current = item["price"]
    if str(price_data["currency"]).lower() != current["currency"]:
        raise invalid_param("items[0][price_data][currency]", "A subscription keeps its currency.")
    if price_data["product"] != current["product"]:
        raise invalid_param("items[0][price_data][product]", f"No such product: '{price_data['product']}'")
    recurring = price_data["recurring"]
    interval = recurring.get("interval") if isinstance(recurring, dict) else None
    if interval != current["recurring"]["interval"]:
        raise invalid_param(
            "items[0][price_data][recurring][interval]", "The sandbox keeps a subscription's interval."
        )
    unit_amount = checkout.parse_int(
        price_data["unit_amount"], "items[0][price_data][unit_amount]", minimum=1
    )
    return subscriptions.new_price(
        unit_amount=unit_amount, currency=current["currency"], interval=interval, product=current["product"]
    )


def _cancel_at_period_end(sub: Obj, flag: bool) -> None:
    sub["cancel_at_period_end"] = flag
    sub["cancel_at"] = subscriptions.current_period(sub)[1] if flag else None
    sub["canceled_at"] = objects.now() if flag else None
    sub["cancellation_details"]["reason"] = "cancellation_requested" if flag else None


def _cancellation_details(sub: Obj, params: Obj) -> None:
    details = params.get("cancellation_details")
    if details is None:
        return
    if not isinstance(details, dict):
        raise invalid_param("cancellation_details", "Invalid hash: cancellation_details")
    for name in ("comment", "feedback"):
        if name in details:
            sub["cancellation_details"][name] = details[name] or None


_WATCHED = ("items", "cancel_at_period_end", "cancel_at", "canceled_at", "cancellation_details", "metadata")


def modify(state: SandboxState, subscription_id: str, params: Obj, *, request: Obj) -> tuple[Obj, list[Obj]]:
    """`Subscription.modify`: a new amount from the next invoice on, cancel at period end, metadata."""
    sub = state.get("subscription", subscription_id)
    before = copy.deepcopy({key: sub[key] for key in _WATCHED})
    if set(params) - {"metadata", "cancellation_details", "expand"}:
        _check_changeable(sub)
    behavior = params.get("proration_behavior", "create_prorations")
    if behavior not in PRORATION_BEHAVIORS:
        raise invalid_param("proration_behavior", f"Invalid proration_behavior: {behavior}")
    price = _requested_price(sub, params.get("items"))
    flag = (
        _bool(params["cancel_at_period_end"], "cancel_at_period_end")
        if "cancel_at_period_end" in params
        else None
    )
    metadata = string_map(params.get("metadata"), "metadata") if "metadata" in params else None
    _cancellation_details(sub, params)
    if price is not None:
        item = sub["items"]["data"][0]
        item["price"] = price
        item["plan"] = subscriptions.plan_of(price)
    if flag is not None:
        _cancel_at_period_end(sub, flag)
    if metadata is not None:
        # Stripe merges metadata; an empty value deletes its key.
        raw = params["metadata"] if isinstance(params["metadata"], dict) else {}
        sub["metadata"] = {k: v for k, v in {**sub["metadata"], **raw}.items() if v != ""}
    previous = {key: value for key, value in before.items() if sub[key] != value}
    if not previous:
        return sub, []
    return sub, [state.emit("customer.subscription.updated", sub, request=request, previous=previous)]


def cancel(state: SandboxState, subscription_id: str, params: Obj, *, request: Obj) -> tuple[Obj, list[Obj]]:
    """`Subscription.cancel`: ends now (no refund, no final invoice, as the sandbox never prorates)."""
    sub = state.get("subscription", subscription_id)
    if sub["status"] == "canceled":
        raise StripeApiError(
            f"This subscription is already canceled: '{subscription_id}'.",
            code="resource_missing",
            status_code=404,
            param="id",
        )
    _cancellation_details(sub, params)
    sub["canceled_at"] = objects.now()
    events = invoices.end_subscription(state, sub, reason="cancellation_requested", request=request)
    return sub, events


def set_cancel_at_period_end(state: SandboxState, subscription_id: str, flag: bool) -> list[Obj]:
    """What the Billing Portal's "Cancel" and "Don't cancel" do."""
    sub = state.get("subscription", subscription_id)
    _check_changeable(sub)
    if sub["cancel_at_period_end"] == flag:
        return []
    before = copy.deepcopy({key: sub[key] for key in _WATCHED})
    _cancel_at_period_end(sub, flag)
    previous = {key: value for key, value in before.items() if sub[key] != value}
    return [state.emit("customer.subscription.updated", sub, previous=previous)]
