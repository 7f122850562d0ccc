"""A comparable picture of what processing produced for a set of donations and their campaign."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from campaigns.donations import bookkeeping
from campaigns.donations.models import Donation
from service import ledger
from service.db import Database
from tests.webhooks.builders import LiveCampaign, get_campaign


async def outcome(database: Database, campaign: LiveCampaign, donation_ids: Sequence[str]) -> dict[str, Any]:
    """Everything money-related, with ids replaced by positions so two runs can be compared."""
    async with database.transaction() as session:
        donations = []
        for donation_id in donation_ids:
            d = await session.scalar(sa.select(Donation).where(Donation.id == uuid.UUID(donation_id)))
            assert d is not None
            sums = await bookkeeping.donation_sums(session, d.id)
            donations.append(
                (
                    d.status,
                    d.refunded_minor,
                    d.stripe_fee_minor,
                    d.card_fingerprint,
                    d.early_fraud_warning,
                    d.confirmed_at is not None,
                    sorted(sums.items()),
                )
            )
        campaign_balance = await ledger.balance(
            session, code=bookkeeping.campaign_account(campaign.id), currency=campaign.currency
        )
    totals = await get_campaign(database, campaign.id)
    return {
        "donations": donations,
        "raised_minor": totals.raised_minor,
        "donor_count": totals.donor_count,
        "campaign_balance": campaign_balance,
    }
