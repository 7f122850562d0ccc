"""What a nonprofit sees of its recurring gifts, per campaign: active donors, MRR and churn.

- Active donors: distinct donor emails (case-insensitive; a gift without an email counts as
  one donor) among gifts that are active or past_due (Stripe is still retrying).
- MRR (monthly recurring revenue), per currency in integer minor units: the sum of those
  gifts' amount per month; a yearly gift counts amount // 12 (rounded down, never a float).
  The fee cover is not revenue of the campaign and is left out. A gift canceled at the end of
  its period still counts until that end, as at Stripe.
- Churn over the last 30 days: of the gifts running 30 days ago (started by then and not
  stopped by then), how many stopped since (canceled or ended), in basis points, rounded down;
  null when none was running 30 days ago.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from campaigns.recurring.models import STOPPED, RecurringGift
from campaigns.recurring.schemas import CampaignRecurringFigures, monthly_minor

CHURN_WINDOW = timedelta(days=30)


def _stopped_at(gift: RecurringGift) -> datetime | None:
    # A gift canceled at period end stops when the period ends (ended_at), not when the donor
    # asked (canceled_at, which Stripe sets at the asking): churn counts the end.
    if gift.status not in STOPPED:
        return None
    return gift.ended_at or gift.canceled_at


def _running_at(gift: RecurringGift, at: datetime) -> bool:
    stopped_at = _stopped_at(gift)
    return gift.started_at <= at and (stopped_at is None or stopped_at > at)


def figures_for(
    campaign_id: uuid.UUID, currency: str, gifts: Sequence[RecurringGift], *, now: datetime
) -> CampaignRecurringFigures:
    live = [g for g in gifts if g.status not in STOPPED]
    emails = {g.donor_email.lower() for g in live if g.donor_email}
    start = now - CHURN_WINDOW
    running = [g for g in gifts if _running_at(g, start)]
    churned = [g for g in running if (stopped := _stopped_at(g)) is not None and stopped <= now]
    return CampaignRecurringFigures(
        campaign_id=campaign_id,
        currency=currency,
        active_donors=len(emails) + sum(1 for g in live if not g.donor_email),
        mrr_minor=sum(monthly_minor(g) for g in live),
        canceled_last_30_days=len(churned),
        active_30_days_ago=len(running),
        churn_bps=len(churned) * 10_000 // len(running) if running else None,
    )


def by_campaign(gifts: Sequence[RecurringGift], *, now: datetime) -> list[CampaignRecurringFigures]:
    """Figures for each campaign (and currency) the gifts belong to, in the gifts' order."""
    grouped: dict[tuple[uuid.UUID, str], list[RecurringGift]] = {}
    for gift in gifts:
        grouped.setdefault((gift.campaign_id, gift.currency), []).append(gift)
    return [figures_for(c, cur, found, now=now) for (c, cur), found in grouped.items()]
