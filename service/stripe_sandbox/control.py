"""`/_control/*`: JSON endpoints for tests and demos to drive the sandbox without a browser.

They exist only inside the sandbox, which production never mounts.
"""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from service.stripe_sandbox import connect, payments, refunds, subscriptions
from service.stripe_sandbox.actions import perform, schedule_settlement
from service.stripe_sandbox.api import sandbox_state, stripe_error_response
from service.stripe_sandbox.errors import StripeApiError, invalid_param
from service.stripe_sandbox.events import DeliveryPolicy
from service.stripe_sandbox.objects import Obj


async def _json(request: Request) -> dict[str, Any]:
    body = await request.body()
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except json.JSONDecodeError as e:
        raise StripeApiError(f"The body is not JSON: {e}") from e
    if not isinstance(data, dict):
        raise StripeApiError("The body must be a JSON object.")
    return data


def _control(handler: Any) -> Any:
    async def run(request: Request) -> Response:
        try:
            result: Response = await handler(request)
        except StripeApiError as e:
            return stripe_error_response(e)
        return result

    return run


def _policy_from(data: dict[str, Any], current: DeliveryPolicy) -> DeliveryPolicy:
    known = {f.name: f.type for f in fields(DeliveryPolicy)}
    values = current.to_json()
    for name, value in data.items():
        if name not in known:
            raise invalid_param(name, f"Unknown delivery policy field: {name}")
        values[name] = value
    if (
        not isinstance(values["duplicate"], int)
        or isinstance(values["duplicate"], bool)
        or values["duplicate"] < 0
    ):
        raise invalid_param("duplicate", "duplicate must be a whole number >= 0")
    if not isinstance(values["delay_s"], int | float) or values["delay_s"] < 0:
        raise invalid_param("delay_s", "delay_s must be a number >= 0")
    if not isinstance(values["reverse"], bool) or not isinstance(values["drop"], bool):
        raise invalid_param("reverse", "reverse and drop must be booleans")
    return DeliveryPolicy(**values)


async def set_delivery(request: Request) -> Response:
    state = sandbox_state(request)
    state.deliverer.policy = _policy_from(await _json(request), state.deliverer.policy)
    return JSONResponse(state.deliverer.policy.to_json())


async def list_emitted(request: Request) -> Response:
    state = sandbox_state(request)
    return JSONResponse(
        {
            "events": state.events,
            "deliveries": [r.to_json() for r in state.deliverer.records],
            "pending": state.deliverer.pending,
            "policy": state.deliverer.policy.to_json(),
        }
    )


async def flush_deliveries(request: Request) -> Response:
    state = sandbox_state(request)
    await state.deliverer.flush()
    return JSONResponse({"deliveries": [r.to_json() for r in state.deliverer.records]})


async def set_async_payments(request: Request) -> Response:
    state = sandbox_state(request)
    data = await _json(request)
    if "settle_after_s" in data:
        delay = data["settle_after_s"]
        if delay is not None and (not isinstance(delay, int | float) or delay < 0):
            raise invalid_param("settle_after_s", "settle_after_s must be null or a number >= 0")
        state.settle_after_s = delay
    if "outcome" in data:
        state.settle_outcome = _outcome(data)
    return JSONResponse({"settle_after_s": state.settle_after_s, "outcome": state.settle_outcome})


def _outcome(data: dict[str, Any]) -> str:
    outcome = data.get("outcome", "succeed")
    if outcome not in ("succeed", "fail"):
        raise invalid_param("outcome", "outcome must be 'succeed' or 'fail'")
    return str(outcome)


def _events_response(events: list[Obj], obj: Obj) -> Response:
    return JSONResponse({"object": obj, "events": [e["id"] for e in events]})


async def pay_session(request: Request) -> Response:
    state = sandbox_state(request)
    data = await _json(request)
    session_id = request.path_params["id"]
    risk_score = data.get("risk_score", payments.DEFAULT_RISK_SCORE)
    if not isinstance(risk_score, int) or not 0 <= risk_score <= 100:
        raise invalid_param("risk_score", "risk_score must be an integer from 0 to 100")
    card = data.get("card_number") or payments.DEFAULT_CARD
    if subscriptions.is_recurring(state, session_id):
        pay = subscriptions.pay_session
        events = await perform(state, lambda: pay(state, session_id, card_number=str(card)))
        return _events_response(events, state.get("checkout.session", session_id))
    events = await perform(
        state, lambda: payments.pay_session(state, session_id, card_number=str(card), risk_score=risk_score)
    )
    return _events_response(events, state.get("checkout.session", session_id))


async def decline_session(request: Request) -> Response:
    state = sandbox_state(request)
    session_id = request.path_params["id"]
    if subscriptions.is_recurring(state, session_id):
        subscriptions.decline_session(state, session_id)  # a 402 for the donor; no events
    events = await perform(state, lambda: payments.decline_session(state, session_id))
    return _events_response(events, state.get("checkout.session", session_id))


async def pay_session_delayed(request: Request) -> Response:
    state = sandbox_state(request)
    session_id = request.path_params["id"]
    if subscriptions.is_recurring(state, session_id):
        raise StripeApiError("The sandbox has no delayed (SEPA) payments in subscription mode.")
    events = await perform(state, lambda: payments.start_delayed_payment(state, session_id))
    schedule_settlement(state, session_id)
    return _events_response(events, state.get("checkout.session", session_id))


async def settle_session(request: Request) -> Response:
    state = sandbox_state(request)
    session_id = request.path_params["id"]
    succeed = _outcome(await _json(request)) == "succeed"
    events = await perform(state, lambda: payments.settle_delayed_payment(state, session_id, succeed=succeed))
    return _events_response(events, state.get("checkout.session", session_id))


async def dispute_charge(request: Request) -> Response:
    state = sandbox_state(request)
    data = await _json(request)
    charge_id = request.path_params["id"]
    reason = str(data.get("reason", "fraudulent"))
    events = await perform(state, lambda: refunds.dispute_charge(state, charge_id, reason=reason))
    return _events_response(events, events[0]["data"]["object"])


async def warn_early_fraud(request: Request) -> Response:
    state = sandbox_state(request)
    data = await _json(request)
    charge_id = request.path_params["id"]
    fraud_type = str(data.get("fraud_type", "made_with_stolen_card"))
    events = await perform(state, lambda: refunds.warn_early_fraud(state, charge_id, fraud_type=fraud_type))
    return _events_response(events, events[0]["data"]["object"])


async def onboard_account(request: Request) -> Response:
    state = sandbox_state(request)
    account_id = request.path_params["id"]
    events = await perform(state, lambda: connect.complete_onboarding(state, account_id))
    return _events_response(events, state.get("account", account_id))


async def fail_reversals(request: Request) -> Response:
    """The next `count` reversals of transfers to this account fail (its balance is too low)."""
    state = sandbox_state(request)
    data = await _json(request)
    account_id = request.path_params["id"]
    count = data.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise invalid_param("count", "count must be a whole number >= 0")
    async with state.lock:
        state.get("account", account_id)
        state.failing_reversals[account_id] = count
    return JSONResponse({"account": account_id, "failing_reversals": count})


def _route(path: str, handler: Any, method: str) -> Route:
    return Route(path, _control(handler), methods=[method], name=f"control_{handler.__name__}")


routes = [
    _route("/_control/delivery", set_delivery, "POST"),
    _route("/_control/events", list_emitted, "GET"),
    _route("/_control/deliveries/flush", flush_deliveries, "POST"),
    _route("/_control/async_payments", set_async_payments, "POST"),
    _route("/_control/sessions/{id}/pay", pay_session, "POST"),
    _route("/_control/sessions/{id}/decline", decline_session, "POST"),
    _route("/_control/sessions/{id}/pay_delayed", pay_session_delayed, "POST"),
    _route("/_control/sessions/{id}/settle", settle_session, "POST"),
    _route("/_control/accounts/{id}/onboard", onboard_account, "POST"),
    _route("/_control/accounts/{id}/fail_reversals", fail_reversals, "POST"),
    _route("/_control/charges/{id}/dispute", dispute_charge, "POST"),
    _route("/_control/charges/{id}/early_fraud_warning", warn_early_fraud, "POST"),
]
