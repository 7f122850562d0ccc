"""Response shapes of a campaign's stats; money is `*_minor` in the campaign's `currency`."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from campaigns.matching.models import MatchStatus


class ShareVisits(BaseModel):
    total: int
    by_channel: dict[str, int] = Field(
        description="Deduplicated visits per channel; 'supporter' is donors' personal links."
    )


class Funnel(BaseModel):
    """Raw engagement: shown to the nonprofit, never used to pay a match."""

    views: int = Field(description="Campaign and embed page views, once per visitor and UTC day.")
    share_visits: ShareVisits
    checkouts_started: int
    donations: int = Field(description="Settled donations.")
    referred_donors: int = Field(description="Distinct donors who gave through a share link (settled).")


class CampaignStats(BaseModel):
    campaign_id: uuid.UUID
    currency: str
    raised_minor: int
    donors_count: int
    matched: dict[MatchStatus, int] = Field(description="Matched amount in minor units per match status.")
    funnel: Funnel
