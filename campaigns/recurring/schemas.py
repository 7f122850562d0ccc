"""A recurring gift as the nonprofit API shows it, and the `data.object` of every recurring.*
event (campaigns.facts): one shape, so both always agree."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from campaigns.recurring.models import Interval, RecurringGift, RecurringStatus


class RecurringGiftOut(BaseModel):
    id: uuid.UUID
    nonprofit_id: uuid.UUID
    campaign_id: uuid.UUID
    status: RecurringStatus = Field(description="active, past_due, canceled or ended")
    interval: Interval = Field(description="month or year")
    currency: str
    amount_minor: int = Field(description="the gift per interval")
    fee_cover_minor: int = Field(description="what the donor adds each time to cover processing fees")
    monthly_minor: int = Field(
        description="what it is worth per month: a yearly gift counts 1/12, rounded down"
    )
    donor_email: str | None
    language: str | None
    first_donation_id: uuid.UUID = Field(description="the donation made at checkout (installment 1)")
    installments_paid: int = Field(description="installments paid so far, each one donation")
    started_at: datetime
    current_period_end: datetime | None = Field(description="when the next installment is due")
    cancel_at: datetime | None = Field(description="set while it is canceled at the end of the paid period")
    canceled_at: datetime | None
    ended_at: datetime | None


class RecurringGiftList(BaseModel):
    data: list[RecurringGiftOut]


class CampaignRecurringFigures(BaseModel):
    campaign_id: uuid.UUID
    currency: str
    active_donors: int = Field(description="distinct donors (by email) with an active or past_due gift")
    mrr_minor: int = Field(
        description="monthly recurring revenue: active and past_due gifts per month (yearly / 12, round down)"
    )
    canceled_last_30_days: int = Field(description="gifts canceled or ended in the last 30 days")
    active_30_days_ago: int = Field(description="gifts that were running 30 days ago")
    churn_bps: int | None = Field(
        description=(
            "canceled_last_30_days / active_30_days_ago in basis points (10000 = 100%), rounded down;"
            " null when nothing was running 30 days ago"
        )
    )


class RecurringFiguresList(BaseModel):
    data: list[CampaignRecurringFigures]


def monthly_minor(gift: RecurringGift) -> int:
    """The gift per month in integer minor units: a yearly gift counts 1/12 (rounded down)."""
    return gift.amount_minor if gift.interval is Interval.MONTH else gift.amount_minor // 12


def gift_out(gift: RecurringGift, *, installments_paid: int) -> RecurringGiftOut:
    return RecurringGiftOut(
        id=gift.id,
        nonprofit_id=gift.nonprofit_id,
        campaign_id=gift.campaign_id,
        status=gift.status,
        interval=gift.interval,
        currency=gift.currency,
        amount_minor=gift.amount_minor,
        fee_cover_minor=gift.fee_cover_minor,
        monthly_minor=monthly_minor(gift),
        donor_email=gift.donor_email,
        language=gift.language,
        first_donation_id=gift.first_donation_id,
        installments_paid=installments_paid,
        started_at=gift.started_at,
        current_period_end=gift.current_period_end,
        cancel_at=gift.cancel_at,
        canceled_at=gift.canceled_at,
        ended_at=gift.ended_at,
    )
