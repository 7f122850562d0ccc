"""Connect: Express accounts, onboarding through account links, transfers and reversals."""

from __future__ import annotations

import secrets

from service.stripe_sandbox import objects
from service.stripe_sandbox.checkout import parse_int, string_map
from service.stripe_sandbox.errors import StripeApiError, invalid_param, missing_param
from service.stripe_sandbox.objects import Obj
from service.stripe_sandbox.state import AccountLinkRecord, SandboxState

ACCOUNT_LINK_TTL_S = 300
ACCOUNT_TYPES = frozenset({"express", "standard", "custom"})
LINK_TYPES = frozenset({"account_onboarding", "account_update"})


def _requested_capabilities(params: Obj) -> dict[str, str]:
    raw = params.get("capabilities") or {}
    if not isinstance(raw, dict):
        raise invalid_param("capabilities", "Invalid hash: capabilities")
    return {
        name: "inactive"
        for name, spec in raw.items()
        if isinstance(spec, dict) and spec.get("requested") == "true"
    }


def create_account(state: SandboxState, params: Obj) -> Obj:
    account_type = params.get("type", "express")
    if account_type not in ACCOUNT_TYPES:
        raise invalid_param("type", f"Invalid type: {account_type}")
    account_id = objects.new_id("acct_1", 16)
    account = objects.from_fixture(
        "account",
        id=account_id,
        type=account_type,
        country=str(params.get("country", "US")).upper(),
        email=params.get("email"),
        business_type=params.get("business_type"),
        capabilities=_requested_capabilities(params),
        charges_enabled=False,
        payouts_enabled=False,
        details_submitted=False,
        created=objects.now(),
        default_currency="eur" if params.get("country", "US").upper() != "US" else "usd",
        metadata=string_map(params.get("metadata"), "metadata"),
        controller={"type": "application", "is_controller": True},
    )
    account["external_accounts"]["url"] = f"/v1/accounts/{account_id}/external_accounts"
    return state.put(account)


def create_account_link(state: SandboxState, params: Obj, *, sandbox_base: str) -> Obj:
    for name in ("account", "type"):
        if not params.get(name):
            raise missing_param(name)
    state.get("account", params["account"], param="account")
    if params["type"] not in LINK_TYPES:
        raise invalid_param("type", f"Invalid type: {params['type']}")
    created = objects.now()
    token = secrets.token_urlsafe(18)
    state.account_links[token] = AccountLinkRecord(
        account=params["account"],
        refresh_url=str(params.get("refresh_url") or ""),
        return_url=str(params.get("return_url") or ""),
        expires_at=created + ACCOUNT_LINK_TTL_S,
    )
    return objects.from_fixture(
        "account_link",
        created=created,
        expires_at=created + ACCOUNT_LINK_TTL_S,
        url=f"{sandbox_base}/onboarding/{token}",
    )


def complete_onboarding(state: SandboxState, account_id: str) -> list[Obj]:
    """What Stripe does when the owner finishes the Express form: everything enabled."""
    account = state.get("account", account_id, param="account")
    previous = {
        key: account[key]
        for key in ("charges_enabled", "payouts_enabled", "details_submitted", "capabilities", "requirements")
    }
    capabilities = account["capabilities"] or {"card_payments": "inactive", "transfers": "inactive"}
    account.update(
        charges_enabled=True,
        payouts_enabled=True,
        details_submitted=True,
        capabilities=dict.fromkeys(capabilities, "active"),
    )
    account["requirements"].update(currently_due=[], eventually_due=[], past_due=[], disabled_reason=None)
    account["tos_acceptance"].update(date=objects.now(), ip="127.0.0.1")
    return [state.emit("account.updated", account, account=account_id, previous=previous)]


def create_transfer(state: SandboxState, params: Obj, *, request: Obj) -> tuple[Obj, list[Obj]]:
    for name in ("amount", "currency", "destination"):
        if not params.get(name):
            raise missing_param(name)
    amount = parse_int(params["amount"], "amount", minimum=1)
    account = state.get("account", params["destination"], param="destination")
    if account["capabilities"].get("transfers") != "active":
        raise StripeApiError(
            "Your destination account needs to have at least one of the following capabilities "
            "enabled: transfers, crypto_transfers, legacy_payments",
            code="insufficient_capabilities_for_transfer",
            param="destination",
        )
    transfer_id = objects.new_id("tr_1")
    transfer = objects.from_fixture(
        "transfer",
        id=transfer_id,
        amount=amount,
        amount_reversed=0,
        balance_transaction=objects.new_id("txn_1"),
        created=objects.now(),
        currency=str(params["currency"]).lower(),
        description=params.get("description"),
        destination=account["id"],
        destination_payment=objects.new_id("py_1"),
        metadata=string_map(params.get("metadata"), "metadata"),
        reversed=False,
        source_transaction=params.get("source_transaction"),
        transfer_group=params.get("transfer_group"),
    )
    transfer["reversals"]["url"] = f"/v1/transfers/{transfer_id}/reversals"
    state.put(transfer)
    return transfer, [state.emit("transfer.created", transfer, request=request)]


def reverse_transfer(
    state: SandboxState, transfer_id: str, params: Obj, *, request: Obj
) -> tuple[Obj, list[Obj]]:
    transfer = state.get("transfer", transfer_id)
    remaining = transfer["amount"] - transfer["amount_reversed"]
    if remaining == 0:
        raise StripeApiError(f"Transfer {transfer_id} has already been fully reversed.", param="amount")
    amount = parse_int(params["amount"], "amount", minimum=1) if "amount" in params else remaining
    if amount > remaining:
        raise StripeApiError(
            f"Reversal amount ({amount}) is greater than the transfer's unreversed amount ({remaining}).",
            param="amount",
        )
    if state.failing_reversals.get(transfer["destination"], 0) > 0:
        # As Stripe does when the connected account's balance cannot cover the reversal.
        state.failing_reversals[transfer["destination"]] -= 1
        raise StripeApiError(
            "Insufficient funds in the connected account to reverse this transfer.",
            code="balance_insufficient",
        )
    reversal = objects.from_fixture(
        "transfer_reversal",
        id=objects.new_id("trr_1"),
        amount=amount,
        balance_transaction=objects.new_id("txn_1"),
        created=objects.now(),
        currency=transfer["currency"],
        destination_payment_refund=objects.new_id("pyr_1"),
        metadata=string_map(params.get("metadata"), "metadata"),
        transfer=transfer_id,
    )
    state.put(reversal)
    previous = {"amount_reversed": transfer["amount_reversed"], "reversed": transfer["reversed"]}
    transfer["amount_reversed"] += amount
    transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
    transfer["reversals"]["data"].insert(0, state.snapshot(reversal))
    transfer["reversals"]["total_count"] = len(transfer["reversals"]["data"])
    return reversal, [state.emit("transfer.reversed", transfer, request=request, previous=previous)]
