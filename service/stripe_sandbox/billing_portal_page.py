"""The sandbox's Billing Portal page, reached through a portal session's `url`.

What Stripe's portal offers with its default configuration: the customer's subscriptions, a
new card, cancel at the end of the period (with a confirm step) or take that back, the
invoice history, and a way back to `return_url`. POSTs only change anything.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from service.stripe_sandbox import billing_portal, invoices, subscriptions
from service.stripe_sandbox.actions import perform
from service.stripe_sandbox.api import sandbox_state
from service.stripe_sandbox.checkout_page import render
from service.stripe_sandbox.errors import StripeApiError
from service.stripe_sandbox.objects import Obj
from service.stripe_sandbox.payments import DEFAULT_CARD
from service.stripe_sandbox.state import PortalRecord, SandboxState

DONE = {
    "card": "Your card was updated.",
    "canceled": "Your subscription will be cancelled at the end of the period.",
    "kept": "Your subscription will continue.",
    "sandbox": "Sandbox: done. The webhooks are on their way.",
}


def _row(state: SandboxState, sub: Obj) -> dict[str, Any]:
    item = sub["items"]["data"][0]
    price = item["price"]
    latest = state.find("invoice", sub["latest_invoice"] or "")
    return {
        "sub": sub,
        "amount": invoices.display_amount(price["unit_amount"], price["currency"]),
        "interval": price["recurring"]["interval"],
        "name": state.billing[sub["id"]].product_name if sub["id"] in state.billing else "Subscription",
        "period_end": invoices.display_day(item["current_period_end"]),
        "open_invoice": latest if latest is not None and latest["status"] == "open" else None,
    }


def _card(state: SandboxState, customer: Obj) -> Obj | None:
    pm_id = customer["invoice_settings"]["default_payment_method"]
    pm = state.find("payment_method", pm_id or "")
    return pm["card"] if pm is not None else None


def _page(
    request: Request,
    record: PortalRecord,
    *,
    message: str | None = None,
    confirm: str | None = None,
    card_number: str = "",
) -> Response:
    state = sandbox_state(request)
    customer = state.get("customer", record.customer)
    context = {
        "customer": customer,
        "card": _card(state, customer),
        "rows": [_row(state, sub) for sub in billing_portal.subscriptions_of(state, customer["id"])],
        "history": [
            {
                "invoice": inv,
                "amount": invoices.display_amount(inv["amount_due"], inv["currency"]),
                "date": invoices.display_day(inv["created"]),
            }
            for inv in billing_portal.invoices_of(state, customer["id"])
        ],
        "record": record,
        "message": message,
        "done": DONE.get(request.query_params.get("done", "")),
        "confirm": confirm,
        "card_number": card_number or DEFAULT_CARD,
        "action_url": str(request.url.remove_query_params("done")),
    }
    return render(request, "sandbox/billing_portal.html", context)


def _record(request: Request) -> PortalRecord | Response:
    record = sandbox_state(request).portal_sessions.get(request.path_params["token"])
    if record is None or not billing_portal.usable(record):
        what = "billing portal session" if record is None else "billing portal session (it has expired)"
        return render(request, "sandbox/not_found.html", {"what": what}, status_code=404)
    return record


async def show_portal(request: Request) -> Response:
    record = _record(request)
    return record if isinstance(record, Response) else _page(request, record)


def _sandbox_action(state: SandboxState, customer_id: str, sub_id: str, action: str) -> list[Obj]:
    """The sandbox's own buttons (not Stripe's portal): what Stripe's clock would do next."""
    sub = billing_portal.owned_subscription(state, customer_id, sub_id)
    if action == "sandbox_renew":
        return subscriptions.renew(state, sub_id, succeed=True)
    if action == "sandbox_renew_fail":
        return subscriptions.renew(state, sub_id, succeed=False)
    invoice_id = str(sub["latest_invoice"])
    if action == "sandbox_retry":
        return invoices.retry(state, invoice_id, succeed=True)
    if action == "sandbox_retry_fail":
        return invoices.retry(state, invoice_id, succeed=False)
    return invoices.exhaust_retries(state, sub_id, then="cancel")


SANDBOX_ACTIONS = frozenset(
    {"sandbox_renew", "sandbox_renew_fail", "sandbox_retry", "sandbox_retry_fail", "sandbox_exhaust"}
)


async def submit_portal(request: Request) -> Response:
    record = _record(request)
    if isinstance(record, Response):
        return record
    form = await request.form(max_files=0, max_fields=10)
    action, sub_id = form.get("action"), str(form.get("subscription") or "")
    card_number = str(form.get("card_number") or "")
    state = sandbox_state(request)
    customer_id = record.customer
    try:
        if action == "cancel":
            billing_portal.owned_subscription(state, customer_id, sub_id)
            return _page(request, record, confirm=sub_id)
        if action == "confirm_cancel":
            await perform(
                state, lambda: billing_portal.cancel_at_period_end(state, customer_id, sub_id, cancel=True)
            )
            done = "canceled"
        elif action == "keep":
            await perform(
                state, lambda: billing_portal.cancel_at_period_end(state, customer_id, sub_id, cancel=False)
            )
            done = "kept"
        elif isinstance(action, str) and action in SANDBOX_ACTIONS:
            await perform(state, lambda: _sandbox_action(state, customer_id, sub_id, action))
            done = "sandbox"
        elif action == "update_card":
            await perform(
                state, lambda: billing_portal.update_card(state, customer_id, card_number=card_number)
            )
            done = "card"
        else:
            return _page(request, record, message="Choose what to do.")
    except StripeApiError as e:
        return _page(request, record, message=e.message, card_number=card_number)
    return RedirectResponse(str(request.url.include_query_params(done=done)), status_code=303)


routes = [
    Route("/billing_portal/{token}", show_portal, methods=["GET"], name="billing_portal"),
    Route("/billing_portal/{token}", submit_portal, methods=["POST"], name="billing_portal_submit"),
]
