"""The Stripe endpoints Goodloop calls, as `(method, path, handler)` rows."""

from __future__ import annotations

import copy
from typing import Any

from service.stripe_sandbox import checkout, connect, refunds, subscriptions
from service.stripe_sandbox.api import ApiCall, Handler, Result
from service.stripe_sandbox.checkout import parse_int
from service.stripe_sandbox.errors import invalid_param
from service.stripe_sandbox.objects import Obj

EVENTS_MAX_LIMIT = 100


def create_checkout_session(call: ApiCall) -> Result:
    if call.params.get("mode") == "subscription":
        return Result(subscriptions.create_session(call.state, call.params, checkout_base=call.base_url))
    session = checkout.create_session(call.state, call.params, checkout_base=call.base_url)
    return Result(session)


def retrieve_checkout_session(call: ApiCall) -> Result:
    session = call.state.get("checkout.session", call.path("id"), param="session")
    return Result(session, events=checkout.expire_if_due(call.state, session))


def expire_checkout_session(call: ApiCall) -> Result:
    events = checkout.expire_session(call.state, call.path("id"), request=call.request_info)
    return Result(call.state.get("checkout.session", call.path("id")), events=events)


def _retrieve(kind: str) -> Handler:
    def handler(call: ApiCall) -> Result:
        return Result(call.state.get(kind, call.path("id")))

    handler.__name__ = f"retrieve_{kind}"  # the route's name (sandbox:retrieve_charge ...)
    return handler


def create_refund(call: ApiCall) -> Result:
    refund, events = refunds.create_refund(call.state, call.params, request=call.request_info)
    return Result(refund, events=events)


def create_account(call: ApiCall) -> Result:
    return Result(connect.create_account(call.state, call.params))


def create_account_link(call: ApiCall) -> Result:
    return Result(connect.create_account_link(call.state, call.params, sandbox_base=call.base_url))


def create_transfer(call: ApiCall) -> Result:
    transfer, events = connect.create_transfer(call.state, call.params, request=call.request_info)
    return Result(transfer, events=events)


def create_transfer_reversal(call: ApiCall) -> Result:
    reversal, events = connect.reverse_transfer(
        call.state, call.path("id"), call.params, request=call.request_info
    )
    return Result(reversal, events=events)


def _event_filter(params: Obj) -> tuple[set[str] | None, int | None]:
    types: Any = params.get("types")
    if isinstance(types, str):
        types = [types]
    if params.get("type"):
        types = [*(types or []), params["type"]]
    created = params.get("created")
    gte: int | None = None
    if isinstance(created, dict) and "gte" in created:
        gte = parse_int(created["gte"], "created[gte]")
    elif isinstance(created, dict) and "gt" in created:
        gte = parse_int(created["gt"], "created[gt]") + 1
    elif isinstance(created, str):
        gte = parse_int(created, "created")
    return (set(types) if types else None), gte


def _type_matches(event_type: str, wanted: set[str] | None) -> bool:
    if wanted is None:
        return True
    # Stripe accepts `charge.*` style wildcards in `type`.
    return any(event_type == w or (w.endswith(".*") and event_type.startswith(w[:-1])) for w in wanted)


def list_events(call: ApiCall) -> Result:
    limit = parse_int(call.params.get("limit", "10"), "limit", minimum=1)
    if limit > EVENTS_MAX_LIMIT:
        raise invalid_param("limit", "This value must be less than or equal to 100.")
    types, gte = _event_filter(call.params)
    newest_first = [
        e
        for e in reversed(call.state.events)
        if _type_matches(e["type"], types) and (gte is None or e["created"] >= gte)
    ]
    after = call.params.get("starting_after")
    if after:
        call.state.get("event", after, param="starting_after")
        ids = [e["id"] for e in newest_first]
        newest_first = newest_first[ids.index(after) + 1 :] if after in ids else []
    page = newest_first[:limit]
    body = {
        "object": "list",
        "url": "/v1/events",
        "has_more": len(newest_first) > limit,
        "data": copy.deepcopy(page),
    }
    return Result(body)


HANDLERS: list[tuple[str, str, Handler]] = [
    ("POST", "/v1/checkout/sessions", create_checkout_session),
    ("GET", "/v1/checkout/sessions/{id}", retrieve_checkout_session),
    ("POST", "/v1/checkout/sessions/{id}/expire", expire_checkout_session),
    ("GET", "/v1/payment_intents/{id}", _retrieve("payment_intent")),
    ("GET", "/v1/charges/{id}", _retrieve("charge")),
    ("GET", "/v1/balance_transactions/{id}", _retrieve("balance_transaction")),
    ("POST", "/v1/refunds", create_refund),
    ("GET", "/v1/refunds/{id}", _retrieve("refund")),
    ("POST", "/v1/transfers", create_transfer),
    ("GET", "/v1/transfers/{id}", _retrieve("transfer")),
    ("POST", "/v1/transfers/{id}/reversals", create_transfer_reversal),
    ("POST", "/v1/accounts", create_account),
    ("GET", "/v1/accounts/{id}", _retrieve("account")),
    ("POST", "/v1/account_links", create_account_link),
    ("GET", "/v1/disputes/{id}", _retrieve("dispute")),
    ("GET", "/v1/events", list_events),
    ("GET", "/v1/events/{id}", _retrieve("event")),
]
