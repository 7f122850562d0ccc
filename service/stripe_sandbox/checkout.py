"""Checkout Sessions: create (with Stripe's validation of what Goodloop sends) and expire."""

from __future__ import annotations

from typing import Any

from service.stripe_sandbox import objects
from service.stripe_sandbox.errors import StripeApiError, invalid_param, missing_param
from service.stripe_sandbox.objects import Obj
from service.stripe_sandbox.state import SandboxState, SessionExtras

MIN_EXPIRY_S = 30 * 60
MAX_EXPIRY_S = 24 * 60 * 60
SUBMIT_TYPES = frozenset({"auto", "book", "donate", "pay", "subscribe"})
MODES = frozenset({"payment", "subscription"})
"""mode=subscription comes through `subscriptions.create_session`, which checks its own params."""


def parse_int(value: Any, param: str, *, minimum: int | None = None) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as e:
        raise invalid_param(param, f"Invalid integer: {value}") from e
    if minimum is not None and number < minimum:
        raise invalid_param(param, f"This value must be greater than or equal to {minimum}.")
    return number


def string_map(value: Any, param: str) -> dict[str, str]:
    if value is None or value == "":
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise invalid_param(param, f"Invalid hash: {param}")
    return {k: v for k, v in value.items() if v != ""}


def _line_item(item: Any, index: int) -> tuple[Obj, str]:
    param = f"line_items[{index}]"
    if not isinstance(item, dict):
        raise invalid_param(param, f"Invalid object: {param}")
    price_data = item.get("price_data")
    if not isinstance(price_data, dict):
        raise missing_param(f"{param}[price_data]")
    currency = price_data.get("currency")
    if not isinstance(currency, str) or len(currency) != 3:
        raise missing_param(f"{param}[price_data][currency]")
    if "unit_amount" not in price_data:
        raise missing_param(f"{param}[price_data][unit_amount]")
    unit_amount = parse_int(price_data["unit_amount"], f"{param}[price_data][unit_amount]", minimum=0)
    product_data = price_data.get("product_data")
    name = product_data.get("name") if isinstance(product_data, dict) else None
    if not isinstance(name, str) or not name:
        raise missing_param(f"{param}[price_data][product_data][name]")
    quantity = parse_int(item.get("quantity", "1"), f"{param}[quantity]", minimum=1)
    line = {
        "id": objects.new_id("li_1"),
        "object": "item",
        "amount_subtotal": unit_amount * quantity,
        "amount_total": unit_amount * quantity,
        "currency": currency.lower(),
        "description": name,
        "quantity": quantity,
        "price": {"object": "price", "unit_amount": unit_amount, "currency": currency.lower()},
    }
    return line, currency.lower()


def _line_items(params: Obj) -> tuple[list[Obj], str]:
    raw = params.get("line_items")
    if not isinstance(raw, list) or not raw:
        raise missing_param("line_items")
    parsed = [_line_item(item, i) for i, item in enumerate(raw)]
    currencies = {currency for _, currency in parsed}
    if len(currencies) > 1:
        raise invalid_param("line_items", "All line items must use the same currency.")
    return [line for line, _ in parsed], currencies.pop()


def _expires_at(params: Obj, created: int) -> int:
    if "expires_at" not in params:
        return created + MAX_EXPIRY_S
    expires_at = parse_int(params["expires_at"], "expires_at")
    if not created + MIN_EXPIRY_S <= expires_at <= created + MAX_EXPIRY_S:
        raise invalid_param(
            "expires_at", "The `expires_at` timestamp must be between 30 minutes and 24 hours from now."
        )
    return expires_at


def _check_basics(params: Obj) -> None:
    mode = params.get("mode")
    if mode is None:
        raise missing_param("mode")
    if mode not in MODES:
        raise invalid_param("mode", f"The sandbox supports mode=payment and mode=subscription, not {mode!r}.")
    if not params.get("success_url"):
        raise missing_param("success_url")
    submit_type = params.get("submit_type")
    if submit_type is not None and submit_type not in SUBMIT_TYPES:
        raise invalid_param("submit_type", f"Invalid submit_type: {submit_type}")


def _custom_submit(params: Obj) -> Obj | None:
    custom = params.get("custom_text") or {}
    submit = custom.get("submit") if isinstance(custom, dict) else None
    if submit is None:
        return None
    message = submit.get("message") if isinstance(submit, dict) else None
    if not isinstance(message, str) or not message or len(message) > 1200:
        raise invalid_param("custom_text[submit][message]", "Invalid string: custom_text[submit][message]")
    return {"message": message}


def create_session(state: SandboxState, params: Obj, *, checkout_base: str) -> Obj:
    _check_basics(params)
    lines, currency = _line_items(params)
    pi_data = params.get("payment_intent_data") or {}
    if not isinstance(pi_data, dict):
        raise invalid_param("payment_intent_data", "Invalid hash: payment_intent_data")
    transfer_data = pi_data.get("transfer_data") or {}
    destination = transfer_data.get("destination") if isinstance(transfer_data, dict) else None
    if destination is not None:
        state.get("account", destination, param="payment_intent_data[transfer_data][destination]")
    created = objects.now()
    total = sum(line["amount_total"] for line in lines)
    session_id = objects.new_id("cs_test_a1", 56)
    session = objects.from_fixture(
        "checkout.session",
        id=session_id,
        adaptive_pricing=None,
        after_expiration=None,
        amount_subtotal=total,
        amount_total=total,
        cancel_url=params.get("cancel_url"),
        client_reference_id=params.get("client_reference_id"),
        collected_information=None,
        created=created,
        currency=currency,
        currency_conversion=None,
        custom_text={
            "after_submit": None,
            "shipping_address": None,
            "submit": _custom_submit(params),
            "terms_of_service_acceptance": None,
        },
        customer_details=None,
        customer_email=params.get("customer_email"),
        expires_at=_expires_at(params, created),
        invoice_creation=None,
        locale=params.get("locale"),
        managed_payments=None,
        metadata=string_map(params.get("metadata"), "metadata"),
        mode=params["mode"],
        payment_intent=None,
        payment_method_configuration_details=None,
        payment_method_types=["card", "sepa_debit"],
        payment_status="unpaid",
        shipping_address_collection=None,
        shipping_cost=None,
        status="open",
        submit_type=params.get("submit_type"),
        success_url=params["success_url"],
        total_details={"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        url=f"{checkout_base}/checkout/{session_id}",
    )
    state.sessions[session_id] = SessionExtras(
        line_items=lines,
        payment_intent_metadata=string_map(pi_data.get("metadata"), "payment_intent_data[metadata]"),
        destination=destination,
    )
    return state.put(session)


def expire_session(state: SandboxState, session_id: str, *, request: Obj | None = None) -> list[Obj]:
    session = state.get("checkout.session", session_id, param="session")
    if session["status"] != "open":
        raise StripeApiError('Only Checkout Sessions with a status in ["open"] can be expired.')
    session["status"] = "expired"
    session["url"] = None
    return [state.emit("checkout.session.expired", session, request=request)]


def expire_if_due(state: SandboxState, session: Obj) -> list[Obj]:
    """Stripe expires open sessions at `expires_at`; the sandbox does it when next touched."""
    if session["status"] == "open" and objects.now() >= session["expires_at"]:
        return expire_session(state, session["id"])
    return []


def success_url(session: Obj) -> str:
    return str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session["id"])
