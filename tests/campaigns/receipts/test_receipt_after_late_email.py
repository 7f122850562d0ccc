"""A receipt is issued when the donor's email arrives after the money (delayed methods)."""

from __future__ import annotations

import uuid

import httpx

from service.db import Database
from service.settings import Settings
from tests.campaigns.receipts.helpers import NL_PROFILE, issuer, receipts, send
from tests.webhooks.builders import insert_donation
from tests.webhooks.stripe_events import Payment, event


def _delayed_first_batch(payment: Payment, *, session_email: str) -> list[dict[str, object]]:
    """A delayed method: checkout completes unpaid, then the intent's success (no email)."""
    return [
        event(
            "checkout.session.completed",
            payment.checkout_session(payment_status="unpaid", email=session_email),
        ),
        event("charge.succeeded", payment.charge()),
        event("payment_intent.succeeded", payment.payment_intent()),
    ]


class TestEmailAfterTheMoney:
    async def test_the_email_of_an_unpaid_checkout_is_kept_for_the_receipt(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        org = await issuer(client, database, profile=NL_PROFILE)
        payment = await insert_donation(database, org.campaign)
        await send(client, database, settings, _delayed_first_batch(payment, session_email="ada@example.org"))
        # The unpaid checkout's email was kept: the intent's success already issued the receipt.
        assert len(await receipts(database, donation_id=uuid.UUID(payment.donation_id))) == 1
        later = payment.checkout_session(email="ada@example.org")
        await send(client, database, settings, [event("checkout.session.async_payment_succeeded", later)])

        found = await receipts(database, donation_id=uuid.UUID(payment.donation_id))
        assert [(r.kind.value, r.donor_email) for r in found] == [("receipt", "ada@example.org")]
        assert found[0].number is not None

    async def test_a_paid_gift_gets_its_receipt_when_the_email_comes_in_a_later_batch(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        org = await issuer(client, database, profile=NL_PROFILE)
        payment = await insert_donation(database, org.campaign)
        await send(client, database, settings, _delayed_first_batch(payment, session_email=""))
        assert await receipts(database, donation_id=uuid.UUID(payment.donation_id)) == []

        succeeded = payment.checkout_session(email="Ada@Example.org")
        await send(client, database, settings, [event("checkout.session.async_payment_succeeded", succeeded)])
        # Stripe delivers twice: still one receipt.
        again = payment.checkout_session(email="ada@example.org")
        await send(client, database, settings, [event("checkout.session.async_payment_succeeded", again)])

        found = await receipts(database, donation_id=uuid.UUID(payment.donation_id))
        assert [(r.kind.value, r.donor_email) for r in found] == [("receipt", "ada@example.org")]
        assert found[0].number is not None and found[0].amount_minor == payment.amount_minor
