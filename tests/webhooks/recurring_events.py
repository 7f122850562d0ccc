"""A recurring gift's Stripe side for tests, in the modern shapes (fixtures3.json, the pinned SDK's
API version): subscription Checkout Session, subscription, invoices, invoice payments, and the
intent and charge of each installment (no metadata: Stripe copies none onto them)."""

from __future__ import annotations

import copy
import json
import uuid
from functools import cache
from pathlib import Path

from campaigns.donations.models import Donation
from service.db import Database
from tests.webhooks.builders import LiveCampaign, insert_donation
from tests.webhooks.stripe_events import JSON, event, example, new_id

DATA = Path(__file__).parent / "data" / "recurring_objects.json"
T0 = 1_800_000_000
MONTH = 30 * 86400


@cache
def _objects() -> JSON:
    loaded: JSON = json.loads(DATA.read_text())
    return loaded


def recurring_example(kind: str) -> JSON:
    obj: JSON = copy.deepcopy(_objects()[kind])
    return obj


class Installment:
    """One invoice of the subscription and the money that pays it."""

    def __init__(self, gift: Recurring, *, number: int, amount_minor: int, billing_reason: str) -> None:
        self.gift = gift
        self.number = number
        self.amount_minor = amount_minor
        self.billing_reason = billing_reason
        self.invoice_id = new_id("in")
        self.invoice_payment_id = new_id("inpay")
        self.payment_intent_id = new_id("pi")
        self.charge_id = new_id("ch")

    def invoice(
        self, *, status: str = "paid", attempt_count: int = 1, next_payment_attempt: int | None = None
    ) -> JSON:
        obj = recurring_example("invoice")
        paid = status == "paid"
        obj.update(
            id=self.invoice_id,
            billing_reason=self.billing_reason,
            status=status,
            amount_due=self.amount_minor,
            amount_paid=self.amount_minor if paid else 0,
            amount_remaining=0 if paid else self.amount_minor,
            total=self.amount_minor,
            currency=self.gift.currency,
            customer=self.gift.customer_id,
            customer_email=self.gift.email,
            attempt_count=attempt_count,
            attempted=True,
            next_payment_attempt=None if paid else next_payment_attempt,
            hosted_invoice_url=f"https://invoice.stripe.test/{self.invoice_id}",
            metadata={},
            parent={
                "type": "subscription_details",
                "quote_details": None,
                "subscription_details": {
                    "subscription": self.gift.subscription_id,
                    "metadata": self.gift.metadata,
                    "subscription_proration_date": None,
                },
            },
        )
        obj["lines"]["data"][0].update(
            amount=self.amount_minor, currency=self.gift.currency, subscription=None
        )
        return obj

    def invoice_payment(self) -> JSON:
        obj = recurring_example("invoice_payment")
        obj.update(
            id=self.invoice_payment_id,
            invoice=self.invoice_id,
            amount_paid=self.amount_minor,
            amount_requested=self.amount_minor,
            currency=self.gift.currency,
            is_default=True,
            livemode=False,
            status="paid",
            payment={"type": "payment_intent", "payment_intent": self.payment_intent_id, "charge": None},
        )
        return obj

    def payment_intent(self) -> JSON:
        obj = example("payment_intent")
        obj.update(
            id=self.payment_intent_id,
            amount=self.amount_minor,
            amount_received=self.amount_minor,
            currency=self.gift.currency,
            status="succeeded",
            latest_charge=self.charge_id,
            customer=self.gift.customer_id,
            metadata={},
        )
        return obj

    def charge(self, *, amount_refunded: int = 0, fingerprint: str | None = None) -> JSON:
        obj = example("charge")
        obj.update(
            id=self.charge_id,
            amount=self.amount_minor,
            amount_captured=self.amount_minor,
            amount_refunded=amount_refunded,
            refunded=amount_refunded >= self.amount_minor,
            captured=True,
            currency=self.gift.currency,
            payment_intent=self.payment_intent_id,
            customer=self.gift.customer_id,
            metadata={},
        )
        obj["refunds"]["data"] = []
        if fingerprint is not None:
            obj["payment_method_details"]["card"]["fingerprint"] = fingerprint
        return obj

    def refund(self, *, refund_id: str, amount_minor: int) -> JSON:
        obj = example("refund")
        obj.update(
            id=refund_id,
            amount=amount_minor,
            charge=self.charge_id,
            payment_intent=self.payment_intent_id,
            currency=self.gift.currency,
            status="succeeded",
            metadata={},
        )
        return obj

    def paid_events(self, *, at: int) -> list[JSON]:
        """What Stripe sends when this invoice is paid (the sandbox's order)."""
        return [
            event("charge.succeeded", self.charge(), created=at),
            event("payment_intent.succeeded", self.payment_intent(), created=at),
            event("invoice_payment.paid", self.invoice_payment(), created=at),
            event("invoice.paid", self.invoice(), created=at),
        ]


class Recurring:
    """The Stripe side of one recurring gift: its session, subscription and installments."""

    def __init__(
        self,
        *,
        donation_id: uuid.UUID,
        session_id: str,
        amount_minor: int,
        currency: str,
        interval: str = "month",
        email: str = "donor@example.org",
    ) -> None:
        self.donation_id = str(donation_id)
        self.session_id = session_id
        self.amount_minor = amount_minor
        self.currency = currency
        self.interval = interval
        self.email = email
        self.subscription_id = new_id("sub")
        self.customer_id = new_id("cus")
        self.item_id = new_id("si")
        self.installments: list[Installment] = []
        self.first = self.installment(billing_reason="subscription_create")

    @property
    def metadata(self) -> dict[str, str]:
        return {"donation_id": self.donation_id}

    def installment(
        self, *, billing_reason: str = "subscription_cycle", amount_minor: int | None = None
    ) -> Installment:
        made = Installment(
            self,
            number=len(self.installments) + 1,
            amount_minor=amount_minor or self.amount_minor,
            billing_reason=billing_reason,
        )
        self.installments.append(made)
        return made

    def checkout_session(self) -> JSON:
        obj = example("checkout.session")
        obj.update(
            id=self.session_id,
            mode="subscription",
            submit_type=None,
            payment_intent=None,
            payment_status="paid",
            status="complete",
            amount_total=self.amount_minor,
            currency=self.currency,
            metadata=self.metadata,
            subscription=self.subscription_id,
            customer=self.customer_id,
            invoice=self.first.invoice_id,
        )
        obj["customer_details"]["email"] = self.email
        return obj

    def subscription(
        self,
        *,
        status: str = "active",
        cancel_at_period_end: bool = False,
        canceled_at: int | None = None,
        ended_at: int | None = None,
        reason: str | None = None,
        unit_amount: int | None = None,
        period_end: int = T0 + MONTH,
    ) -> JSON:
        obj = recurring_example("subscription")
        obj.update(
            id=self.subscription_id,
            customer=self.customer_id,
            status=status,
            metadata=self.metadata,
            currency=self.currency,
            cancel_at_period_end=cancel_at_period_end,
            cancel_at=period_end if cancel_at_period_end else None,
            canceled_at=canceled_at,
            ended_at=ended_at,
            start_date=T0,
            cancellation_details={"comment": None, "feedback": None, "reason": reason},
            latest_invoice=self.installments[-1].invoice_id,
        )
        item = obj["items"]["data"][0]
        item.update(id=self.item_id, current_period_start=period_end - MONTH, current_period_end=period_end)
        item["price"].update(unit_amount=unit_amount or self.amount_minor, currency=self.currency)
        item["price"]["recurring"]["interval"] = self.interval
        return obj

    def started_events(self, *, at: int = T0) -> list[JSON]:
        """A paid subscription Checkout, as Stripe sends it (the sandbox's order)."""
        return [
            event("customer.subscription.created", self.subscription(), created=at),
            *self.first.paid_events(at=at),
            event("checkout.session.completed", self.checkout_session(), created=at),
        ]


async def insert_recurring_donation(
    database: Database,
    campaign: LiveCampaign,
    *,
    amount_minor: int = 1000,
    interval: str = "month",
    email: str = "donor@example.org",
    device_hash: str | None = None,
) -> Recurring:
    """A pending first donation as a monthly checkout leaves it, and its Stripe side."""
    payment = await insert_donation(
        database, campaign, amount_minor=amount_minor, donor_email=None, device_hash=device_hash
    )
    async with database.transaction() as session:
        donation = await session.get(Donation, uuid.UUID(payment.donation_id))
        assert donation is not None
        donation.recurring_interval = interval
        donation.installment = 1
    return Recurring(
        donation_id=uuid.UUID(payment.donation_id),
        session_id=payment.session_id,
        amount_minor=amount_minor,
        currency=campaign.currency,
        interval=interval,
        email=email,
    )
