"""The donation as the public API shows it: the nonprofit API's donations and the `data.object` of
every donation.* event (campaigns.integrations.events), one shape so both always agree."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from campaigns.donations.models import Donation, DonationStatus
from service.pagination import PageQuery


class DonationOut(BaseModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    nonprofit_id: uuid.UUID
    status: DonationStatus
    currency: str
    amount_minor: int
    """The gift to the campaign."""
    fee_cover_minor: int
    """What the donor added on top to cover processing fees."""
    charged_minor: int
    """What the donor paid: amount_minor + fee_cover_minor."""
    refunded_minor: int
    """Refunded so far, in total."""
    dispute_status: str | None
    """Stripe's status of the dispute on the payment (needs_response, under_review, won, lost);
    null when there is none."""
    donor_name: str | None
    donor_email: str | None
    anonymous: bool
    """The donor asked to appear as "Anonymous" in public; the nonprofit still sees the name."""
    message: str | None
    created_at: datetime
    confirmed_at: datetime | None
    """When the money first arrived (null while pending, failed or expired)."""


class DonationList(BaseModel):
    data: list[DonationOut]
    next_cursor: str | None


class DonationQuery(PageQuery):
    status: DonationStatus | None = None
    campaign_id: uuid.UUID | None = None


def donation_out(donation: Donation) -> DonationOut:
    return DonationOut(
        id=donation.id,
        campaign_id=donation.campaign_id,
        nonprofit_id=donation.nonprofit_id,
        status=donation.status,
        currency=donation.currency,
        amount_minor=donation.amount_minor,
        fee_cover_minor=donation.fee_cover_minor,
        charged_minor=donation.charged_minor,
        refunded_minor=donation.refunded_minor,
        dispute_status=donation.dispute_status,
        donor_name=donation.donor_name,
        donor_email=donation.donor_email,
        anonymous=donation.anonymous,
        message=donation.message,
        created_at=donation.created_at,
        confirmed_at=donation.confirmed_at,
    )
