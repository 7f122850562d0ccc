"""Builders for receipt tests: an organisation with its API key and a live campaign, gifts paid
through signed Stripe events, receipts read back, PDFs parsed with pypdf."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import sqlalchemy as sa
from pypdf import PdfReader

from campaigns.donations.models import Donation
from campaigns.receipts.mailing import email_receipts
from campaigns.receipts.models import Receipt
from service.db import Database
from service.settings import Settings
from tests.builders import Org, insert_admin, live_campaign, sign_up, verify
from tests.webhooks.builders import LiveCampaign, deliver, insert_donation, process_all
from tests.webhooks.stripe_events import JSON, Payment, event, new_id


@dataclass(frozen=True)
class Issuer:
    org: Org
    campaign: LiveCampaign


NL_PROFILE = {
    "legal_name": "Stichting Warme Jassen",
    "country": "NL",
    "registration_number": "12345678",
    "tax_id": "111222333",
}
US_PROFILE = {
    "legal_name": "Warm Coats Inc.",
    "country": "US",
    "registration_number": "C1234567",
    "tax_id": "12-3456789",
}
UK_PROFILE = {
    "legal_name": "Warm Coats Trust",
    "country": "GB",
    "registration_number": "09876543",
    "tax_id": "1234567",
}


async def issuer(
    client: httpx.AsyncClient,
    database: Database,
    *,
    profile: dict[str, Any] | None = None,
    **sign_up_fields: Any,
) -> Issuer:
    """A verified organisation with a live campaign, and its tax profile when given."""
    org = await sign_up(client, **sign_up_fields)
    admin = await insert_admin(database)
    await verify(client, admin, org)
    body = await live_campaign(client, org, admin)
    if profile is not None:
        response = await client.put("/api/v1/nonprofits/me/tax-profile", json=profile, headers=org.headers)
        assert response.status_code == 200, response.text
    campaign = LiveCampaign(
        id=uuid.UUID(body["id"]), nonprofit_id=uuid.UUID(org.id), currency=body["currency"]
    )
    return Issuer(org=org, campaign=campaign)


async def pending_gift(
    database: Database,
    campaign: LiveCampaign,
    *,
    email: str = "anna@example.org",
    amount_minor: int = 2500,
    fee_cover_minor: int = 0,
    name: str | None = "Anna de Vries",
    language: str | None = None,
) -> Payment:
    payment = await insert_donation(
        database,
        campaign,
        amount_minor=amount_minor,
        fee_cover_minor=fee_cover_minor,
        donor_email=email,
        donor_name=name,
    )
    if language is not None:
        async with database.transaction() as session:
            await session.execute(
                sa.update(Donation)
                .where(Donation.id == uuid.UUID(payment.donation_id))
                .values(language=language)
            )
    return payment


def paid(payment: Payment, *, method: str = "card") -> list[JSON]:
    charge = payment.charge()
    charge["payment_method_details"]["type"] = method
    return [
        event("charge.succeeded", charge),
        event("checkout.session.completed", payment.checkout_session()),
    ]


def refunded(payment: Payment, amount_minor: int, *, total_minor: int | None = None) -> list[JSON]:
    refund = payment.refund(refund_id=new_id("re"), amount_minor=amount_minor)
    return [
        event("refund.created", refund),
        event("charge.refunded", payment.charge(amount_refunded=total_minor or amount_minor)),
    ]


def disputed(payment: Payment, outcome: str) -> list[JSON]:
    dispute_id = new_id("dp")
    closing = [event("charge.dispute.closed", payment.dispute(dispute_id=dispute_id, status=outcome))]
    if outcome == "won":
        closing.insert(
            0, event("charge.dispute.funds_reinstated", payment.dispute(dispute_id=dispute_id, status="won"))
        )
    return [
        event("charge.dispute.created", payment.dispute(dispute_id=dispute_id)),
        event("charge.dispute.funds_withdrawn", payment.dispute(dispute_id=dispute_id)),
        *closing,
    ]


async def send(client: httpx.AsyncClient, database: Database, settings: Settings, events: list[JSON]) -> None:
    """Deliver signed events to the webhook endpoint and process them all."""
    for evt in events:
        response = await deliver(client, evt, settings.webhook_secret)
        assert response.status_code == 200, response.text
    await process_all(database)


async def email_all(database: Database) -> int:
    total = 0
    while (done := await email_receipts(database)) > 0:
        total += done
    return total


async def receipts(database: Database, **where: Any) -> list[Receipt]:
    async with database.transaction() as session:
        query = sa.select(Receipt).order_by(Receipt.nonprofit_id, Receipt.year, Receipt.number)
        for column, value in where.items():
            query = query.where(getattr(Receipt, column) == value)
        return list(await session.scalars(query))


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    # Justified lines come out with doubled spaces: compare words, not layout.
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def flat(text: str) -> str:
    """Money is formatted with a no-break space ("€\u00a025,59"): compare it as a space."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")
