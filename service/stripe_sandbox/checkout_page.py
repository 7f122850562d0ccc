"""The sandbox's test checkout page: what Stripe Checkout is, reduced to three buttons.

Plain HTML forms, no script (our CSP is `script-src 'self'`). Actions are POSTs only. There is
no CSRF token: the sandbox holds no one's money and never runs in production.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from service.money import format_money
from service.stripe_sandbox import payments, subscriptions
from service.stripe_sandbox.actions import perform, schedule_settlement
from service.stripe_sandbox.api import sandbox_state
from service.stripe_sandbox.checkout import expire_if_due, success_url
from service.stripe_sandbox.errors import StripeApiError
from service.stripe_sandbox.objects import Obj
from service.web.pages import templates

ACTIONS = ("pay", "decline", "delayed")


def display_amount(amount: int, currency: str) -> str:
    try:
        return format_money(amount, currency)
    except (KeyError, ValueError):
        return f"{amount} {currency.upper()} (minor units)"


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(request: Request, session: Obj, *, message: str | None = None, card_number: str = "") -> Response:
    state = sandbox_state(request)
    extras = state.sessions.get(session["id"])
    recurring = state.recurring_sessions.get(session["id"])
    context = {
        "session": session,
        "interval": recurring.interval if recurring else None,
        "amount": display_amount(session["amount_total"], session["currency"]),
        "line_items": extras.line_items if extras else [],
        "message": message,
        "card_number": card_number or payments.DEFAULT_CARD,
        "action_url": str(request.url),
    }
    return render(request, "sandbox/checkout.html", context)


async def _session(request: Request) -> Obj | Response:
    state = sandbox_state(request)
    session_id = request.path_params["session_id"]
    session = state.find("checkout.session", session_id)
    if session is None:
        return render(request, "sandbox/not_found.html", {"what": "checkout session"}, status_code=404)
    await perform(state, lambda: expire_if_due(state, session))
    return session


async def show_checkout(request: Request) -> Response:
    session = await _session(request)
    return session if isinstance(session, Response) else _page(request, session)


async def submit_checkout(request: Request) -> Response:
    session = await _session(request)
    if isinstance(session, Response):
        return session
    form = await request.form(max_files=0, max_fields=20)
    action = form.get("action")
    card_number = str(form.get("card_number") or payments.DEFAULT_CARD)
    state = sandbox_state(request)
    session_id = session["id"]
    try:
        if subscriptions.is_recurring(state, session_id):
            return await _submit_recurring(request, session, action=action, card_number=card_number)
        if action == "pay":
            events = await perform(
                state, lambda: payments.pay_session(state, session_id, card_number=card_number)
            )
        elif action == "decline":
            events = await perform(state, lambda: payments.decline_session(state, session_id))
        elif action == "delayed":
            events = await perform(state, lambda: payments.start_delayed_payment(state, session_id))
            schedule_settlement(state, session_id)
        else:
            return _page(request, session, message="Choose Pay, Decline or Delayed.", card_number=card_number)
    except StripeApiError as e:
        return _page(request, session, message=e.message, card_number=card_number)
    if session["status"] == "complete":
        return RedirectResponse(success_url(session), status_code=303)
    failed = any(e["type"] == "payment_intent.payment_failed" for e in events)
    message = "Your card was declined. Try another card." if failed else None
    return _page(request, session, message=message, card_number=card_number)


async def _submit_recurring(request: Request, session: Obj, *, action: object, card_number: str) -> Response:
    """Subscribe or be declined; a declined subscription stays open and emits nothing."""
    state = sandbox_state(request)
    session_id = session["id"]
    if action == "pay":
        await perform(state, lambda: subscriptions.pay_session(state, session_id, card_number=card_number))
        return RedirectResponse(success_url(session), status_code=303)
    if action == "decline":
        subscriptions.decline_session(state, session_id)
    return _page(request, session, message="Choose Subscribe or Decline.", card_number=card_number)


routes = [
    Route("/checkout/{session_id}", show_checkout, methods=["GET"], name="checkout"),
    Route("/checkout/{session_id}", submit_checkout, methods=["POST"], name="checkout_submit"),
]
