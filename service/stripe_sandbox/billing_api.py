"""The `/v1` endpoints of recurring billing: subscriptions, invoices, customers, the portal."""

from __future__ import annotations

import copy
from collections.abc import Callable

from service.stripe_sandbox import billing_portal, invoices, subscription_changes
from service.stripe_sandbox.api import ApiCall, Handler, Result
from service.stripe_sandbox.checkout import parse_int
from service.stripe_sandbox.errors import invalid_param
from service.stripe_sandbox.objects import Obj
from service.stripe_sandbox.state import SandboxState

LIST_MAX_LIMIT = 100


def _expanded(call: ApiCall) -> list[str]:
    raw = call.params.get("expand", [])
    return [raw] if isinstance(raw, str) else [p for p in raw if isinstance(p, str)]


def list_of(call: ApiCall, kind: str, url: str, matches: Callable[[Obj], bool]) -> Result:
    """Stripe's list envelope, newest first, `limit` and `starting_after` as Stripe reads them."""
    limit = parse_int(call.params.get("limit", "10"), "limit", minimum=1)
    if limit > LIST_MAX_LIMIT:
        raise invalid_param("limit", "This value must be less than or equal to 100.")
    found = [o for o in call.state.objects.values() if o.get("object") == kind and matches(o)]
    # Insertion order is creation order; `created` has one-second resolution.
    newest_first = list(reversed(found))
    after = call.params.get("starting_after")
    if after:
        call.state.get(kind, after, param="starting_after")
        ids = [o["id"] for o in newest_first]
        newest_first = newest_first[ids.index(after) + 1 :] if after in ids else []
    page = newest_first[:limit]
    body = {"object": "list", "url": url, "has_more": len(newest_first) > limit, "data": copy.deepcopy(page)}
    return Result(body)


def _equals(params: Obj, *names: str) -> Callable[[Obj], bool]:
    wanted = {name: params[name] for name in names if params.get(name)}
    return lambda obj: all(obj.get(name) == value for name, value in wanted.items())


def retrieve_subscription(call: ApiCall) -> Result:
    return Result(call.state.get("subscription", call.path("id")))


def list_subscriptions(call: ApiCall) -> Result:
    status = call.params.get("status")
    # Stripe lists every status but canceled unless asked: "all" or one status.
    by_customer = _equals(call.params, "customer")

    def matches(sub: Obj) -> bool:
        if status in (None, ""):
            wanted = sub["status"] != "canceled"
        else:
            wanted = status == "all" or sub["status"] == status
        return wanted and by_customer(sub)

    return list_of(call, "subscription", "/v1/subscriptions", matches)


def update_subscription(call: ApiCall) -> Result:
    sub, events = subscription_changes.modify(
        call.state, call.path("id"), call.params, request=call.request_info
    )
    return Result(sub, events=events)


def cancel_subscription(call: ApiCall) -> Result:
    sub, events = subscription_changes.cancel(
        call.state, call.path("id"), call.params, request=call.request_info
    )
    return Result(sub, events=events)


def _with_payments(state: SandboxState, invoice: Obj) -> Obj:
    shown = copy.deepcopy(invoice)
    payments = invoices.payments_of(state, invoice["id"])
    shown["payments"] = {
        "object": "list",
        "data": copy.deepcopy(payments),
        "has_more": False,
        "url": f"/v1/invoices/{invoice['id']}/payments",
    }
    return shown


def retrieve_invoice(call: ApiCall) -> Result:
    invoice = call.state.get("invoice", call.path("id"))
    if "payments" in _expanded(call):
        # Stripe leaves `payments` out unless it is expanded.
        return Result(_with_payments(call.state, invoice))
    return Result(invoice)


def list_invoices(call: ApiCall) -> Result:
    by_fields = _equals(call.params, "customer", "status")
    wanted_sub = call.params.get("subscription")

    def matches(invoice: Obj) -> bool:
        parent = invoice["parent"]["subscription_details"]["subscription"]
        return by_fields(invoice) and (not wanted_sub or parent == wanted_sub)

    return list_of(call, "invoice", "/v1/invoices", matches)


def retrieve_invoice_payment(call: ApiCall) -> Result:
    return Result(call.state.get("invoice_payment", call.path("id")))


def list_invoice_payments(call: ApiCall) -> Result:
    return list_of(call, "invoice_payment", "/v1/invoice_payments", _equals(call.params, "invoice", "status"))


def retrieve_customer(call: ApiCall) -> Result:
    return Result(call.state.get("customer", call.path("id")))


def retrieve_payment_method(call: ApiCall) -> Result:
    return Result(call.state.get("payment_method", call.path("id")))


def create_billing_portal_session(call: ApiCall) -> Result:
    return Result(billing_portal.create_session(call.state, call.params, sandbox_base=call.base_url))


HANDLERS: list[tuple[str, str, Handler]] = [
    ("GET", "/v1/subscriptions", list_subscriptions),
    ("GET", "/v1/subscriptions/{id}", retrieve_subscription),
    ("POST", "/v1/subscriptions/{id}", update_subscription),
    ("DELETE", "/v1/subscriptions/{id}", cancel_subscription),
    ("GET", "/v1/invoices", list_invoices),
    ("GET", "/v1/invoices/{id}", retrieve_invoice),
    ("GET", "/v1/invoice_payments", list_invoice_payments),
    ("GET", "/v1/invoice_payments/{id}", retrieve_invoice_payment),
    ("GET", "/v1/customers/{id}", retrieve_customer),
    ("GET", "/v1/payment_methods/{id}", retrieve_payment_method),
    ("POST", "/v1/billing_portal/sessions", create_billing_portal_session),
]
