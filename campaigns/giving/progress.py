"""A campaign's progress as donors see it: raised, matched, total, percent, donors, deadline.

One function, `campaign_progress`, that the campaign page, the live events and the public API
all read, so the three never disagree. Money stays in integer minor units.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from campaigns.campaign.models import Campaign


@dataclass(frozen=True)
class CampaignProgress:
    currency: str
    goal_minor: int
    raised_minor: int
    """Donors' own money (settled donations less refunds)."""
    matched_minor: int
    """Match money promised on top (see Campaign.matched_minor for which statuses count)."""
    total_minor: int
    donors_count: int
    percent: int
    """Of the goal, from raised plus matched, floored and capped at 100 (integer arithmetic)."""
    ends_at: datetime | None


def campaign_progress(campaign: Campaign) -> CampaignProgress:
    raised = campaign.raised_minor
    matched = int(getattr(campaign, "matched_minor", 0) or 0)
    total = raised + matched
    return CampaignProgress(
        currency=campaign.currency,
        goal_minor=campaign.goal_minor,
        raised_minor=raised,
        matched_minor=matched,
        total_minor=total,
        donors_count=campaign.donor_count,
        percent=percent_of(total, campaign.goal_minor),
        ends_at=campaign.ends_at,
    )


def percent_of(amount_minor: int, goal_minor: int) -> int:
    if goal_minor <= 0:
        return 0
    return min(100, max(0, amount_minor) * 100 // goal_minor)
