"""A recurring gift's Stripe Checkout: subscription mode, one inline recurring price.

campaigns.giving.checkout builds the one-off parameters and hands them here when the donor
chose monthly or yearly. What differs (Stripe refuses the rest in subscription mode):
`payment_intent_data` and `submit_type` go, the destination moves to
`subscription_data.transfer_data` (every installment is a destination charge on the
nonprofit's connected account, like a one-off gift), and the metadata moves to
`subscription_data.metadata`, which Stripe copies onto the subscription and every invoice.
The session's own metadata stays: the donation's session binds by its recorded id anyway.
"""

from __future__ import annotations

from typing import Literal

from stripe.params.checkout import SessionCreateParams
from stripe.params.checkout._session_create_params import (
    SessionCreateParamsLineItem,
    SessionCreateParamsSubscriptionData,
)

from campaigns.recurring.models import Interval
from service import i18n
from service.web.messages import N_

Frequency = Literal["once", "monthly", "yearly"]

_INTERVALS: dict[str, Interval] = {"monthly": Interval.MONTH, "yearly": Interval.YEAR}


_GIFT = {Interval.MONTH: N_("Monthly gift to %(title)s"), Interval.YEAR: N_("Yearly gift to %(title)s")}


def interval_of(frequency: str) -> str | None:
    """'month' or 'year' for a recurring frequency (donations.recurring_interval); None for once."""
    interval = _INTERVALS.get(frequency)
    return interval.value if interval else None


def product_name(campaign_title: str, *, interval: str, language: str = i18n.DEFAULT_LANGUAGE) -> str:
    """What Stripe Checkout calls the subscription, in the donor's language."""
    gettext = i18n.translations(language).gettext
    return (gettext(_GIFT[Interval(interval)]) % {"title": campaign_title})[:250]


def line_item(currency: str, charged_minor: int, *, interval: str, name: str) -> SessionCreateParamsLineItem:
    return {
        "quantity": 1,
        "price_data": {
            "currency": currency,
            "unit_amount": charged_minor,
            "product_data": {"name": name},
            "recurring": {"interval": Interval(interval).value},
        },
    }


def as_subscription(
    params: SessionCreateParams, metadata: dict[str, str], *, destination: str | None
) -> None:
    """Turn payment-mode parameters into subscription-mode ones, in place."""
    params["mode"] = "subscription"
    params.pop("submit_type", None)
    params.pop("payment_intent_data", None)
    subscription: SessionCreateParamsSubscriptionData = {"metadata": metadata}
    if destination:
        subscription["transfer_data"] = {"destination": destination}
    params["subscription_data"] = subscription
