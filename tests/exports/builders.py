"""Builders for export tests: organisations with live campaigns in several currencies, and
donations paid through signed Stripe webhooks."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass

import httpx

from service.db import Database
from service.settings import Settings
from tests import builders
from tests.webhooks import stripe_events
from tests.webhooks.builders import LiveCampaign, deliver, insert_donation, process_all

BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Tenant:
    org: builders.Org
    admin: builders.AdminUser
    campaigns: dict[str, LiveCampaign]
    """One live campaign per currency, keyed by the lowercase currency code."""


async def tenant(client: httpx.AsyncClient, database: Database, *currencies: str) -> Tenant:
    org = await builders.sign_up(client)
    admin = await builders.insert_admin(database)
    await builders.verify(client, admin, org)
    campaigns = {}
    for code in currencies or ("eur",):
        body = await builders.live_campaign(client, org, admin, currency=code)
        campaigns[code] = LiveCampaign(
            id=uuid.UUID(body["id"]), nonprofit_id=uuid.UUID(org.id), currency=body["currency"]
        )
    return Tenant(org=org, admin=admin, campaigns=campaigns)


async def paid_donation(
    client: httpx.AsyncClient,
    database: Database,
    settings: Settings,
    campaign: LiveCampaign,
    *,
    amount_minor: int,
    fee_cover_minor: int = 0,
    donor_name: str | None = None,
    donor_email: str | None = None,
    anonymous: bool = False,
) -> uuid.UUID:
    """A donation as checkout leaves it (name and choices from the donate form), then paid:
    the charge and the completed session arrive as Stripe sends and signs them."""
    donation_id = uuid.uuid4()
    email = donor_email or f"donor-{donation_id.hex[:10]}@example.org"
    payment = await insert_donation(
        database,
        campaign,
        amount_minor=amount_minor,
        fee_cover_minor=fee_cover_minor,
        donor_email=email,
        donor_name=donor_name,
        anonymous=anonymous,
        donation_id=donation_id,
    )
    for evt in (
        stripe_events.event("charge.succeeded", payment.charge(fingerprint=donation_id.hex[:16])),
        stripe_events.event("checkout.session.completed", payment.checkout_session(email=email)),
    ):
        response = await deliver(client, evt, settings.webhook_secret)
        assert response.status_code == 200, response.text
    await process_all(database)
    return donation_id


def parse_csv(response: httpx.Response) -> list[dict[str, str]]:
    """Read a download the way a spreadsheet would: UTF-8 after the BOM, CRLF records."""
    assert response.status_code == 200, response.text
    body = response.content
    assert body.startswith(BOM)
    text = body.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    # Every record (and the header) ends in CRLF; a bare LF only ever appears inside a quoted cell.
    assert text.endswith("\r\n")
    assert text.count("\r\n") == len(rows) + 1
    return rows


def header(response: httpx.Response) -> list[str]:
    text = response.content.decode("utf-8-sig")
    return next(csv.reader(io.StringIO(text, newline="")))
