"""Helpers for the recurring tests: a subscription-mode session, subscribed through the sandbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import stripe

from tests.service.stripe_sandbox.conftest import Sandbox


def subscription_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": "subscription",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 1_000,
                    "product_data": {"name": "Monthly gift to Clean Rivers"},
                    "recurring": {"interval": "month"},
                },
            }
        ],
        "subscription_data": {"metadata": {"recurring_gift_id": "rg_1", "campaign": "rivers"}},
        "customer_email": "donor@example.org",
        "metadata": {"donation_id": "don_1"},
        "locale": "nl",
        "success_url": "http://127.0.0.1:9/thanks?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://127.0.0.1:9/campaigns/rivers",
    }
    params.update(overrides)
    return params


@dataclass
class Subscribed:
    session_id: str
    subscription: stripe.Subscription
    account: str


async def subscribe(sandbox: Sandbox, *, interval: str = "month", amount: int = 1_000) -> Subscribed:
    """A donor subscribed through Checkout on a connected account; its events delivered."""
    account = await sandbox.client.v1.accounts.create_async({"type": "express", "country": "NL"})
    params = subscription_params()
    params["line_items"][0]["price_data"].update(unit_amount=amount, recurring={"interval": interval})
    params["subscription_data"]["transfer_data"] = {"destination": account.id}
    session = await sandbox.client.v1.checkout.sessions.create_async(params)
    await sandbox.control(f"sessions/{session.id}/pay")
    await sandbox.flush()
    paid = await sandbox.client.v1.checkout.sessions.retrieve_async(session.id)
    assert isinstance(paid.subscription, str)
    sub = await sandbox.client.v1.subscriptions.retrieve_async(paid.subscription)
    return Subscribed(session_id=session.id, subscription=sub, account=account.id)


def events_of(sandbox: Sandbox, event_type: str) -> list[stripe.Event]:
    return [e for e in sandbox.captured.platform if e.type == event_type]


def types_since(sandbox: Sandbox, start: int) -> list[str]:
    return sandbox.captured.types()[start:]
