"""`/_control/*` for recurring billing: renew now, fail, retry, run out of retries, pay.

The sandbox never moves time by itself; these endpoints are what Stripe's clock would do.
Each answers `{"object": <the invoice or subscription>, "events": [event ids]}`.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.stripe_sandbox import invoices, subscriptions
from service.stripe_sandbox.actions import perform
from service.stripe_sandbox.api import sandbox_state
from service.stripe_sandbox.control import _control, _events_response, _json, _outcome
from service.stripe_sandbox.errors import invalid_param
from service.stripe_sandbox.payments import DEFAULT_CARD


def _then(data: dict[str, Any]) -> str:
    then = data.get("then", "cancel")
    if then not in invoices.AFTER_RETRIES:
        raise invalid_param("then", "then must be 'cancel' or 'unpaid'")
    return str(then)


async def renew_subscription(request: Request) -> Response:
    state = sandbox_state(request)
    succeed = _outcome(await _json(request)) == "succeed"
    sub_id = request.path_params["id"]
    events = await perform(state, lambda: subscriptions.renew(state, sub_id, succeed=succeed))
    return _events_response(events, state.get("subscription", sub_id))


async def exhaust_retries(request: Request) -> Response:
    state = sandbox_state(request)
    then = _then(await _json(request))
    sub_id = request.path_params["id"]
    events = await perform(state, lambda: invoices.exhaust_retries(state, sub_id, then=then))
    return _events_response(events, state.get("subscription", sub_id))


async def retry_invoice(request: Request) -> Response:
    state = sandbox_state(request)
    data = await _json(request)
    succeed, then = _outcome(data) == "succeed", _then(data)
    invoice_id = request.path_params["id"]
    events = await perform(state, lambda: invoices.retry(state, invoice_id, succeed=succeed, then=then))
    return _events_response(events, state.get("invoice", invoice_id))


async def pay_invoice(request: Request) -> Response:
    state = sandbox_state(request)
    card = str((await _json(request)).get("card_number") or DEFAULT_CARD)
    invoice_id = request.path_params["id"]
    events = await perform(state, lambda: invoices.pay_with_card(state, invoice_id, card_number=card))
    return _events_response(events, state.get("invoice", invoice_id))


def _route(path: str, handler: Any) -> Route:
    return Route(path, _control(handler), methods=["POST"], name=f"control_{handler.__name__}")


routes = [
    _route("/_control/subscriptions/{id}/renew", renew_subscription),
    _route("/_control/subscriptions/{id}/exhaust_retries", exhaust_retries),
    _route("/_control/invoices/{id}/retry", retry_invoice),
    _route("/_control/invoices/{id}/pay", pay_invoice),
]
