"""Shapes of the nonprofit API for fundraiser pages and teams (#15): what an organisation's own
API key reads and decides. Money is integer minor units with the campaign's currency."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from campaigns.donations.schemas import DonationOut
from campaigns.fundraising.models import FundraiserStatus
from campaigns.fundraising.schemas import FundraiserOut


class FundraiserListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: FundraiserStatus | None = None
    limit: int = Field(default=50, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=1_000_000, description="how many pages to skip (newest first)")


class OffsetQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=50, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=1_000_000)


class FundraiserDonationList(BaseModel):
    data: list[DonationOut] = Field(description="gifts through the page, any status, oldest first")
    next_offset: int | None


class TeamBriefOut(BaseModel):
    id: uuid.UUID
    slug: str
    name: str


class NonprofitFundraiserOut(FundraiserOut):
    """A page as its nonprofit sees it, with its numbers (counted as the leaderboard counts)."""

    team: TeamBriefOut | None
    raised_minor: int = Field(description="settled gifts through the page, net of refunds")
    donors: int = Field(description="distinct donors (identity clusters; excluded donors not counted)")
    page_url: str | None = Field(description="the public page while it is live, else null")


class FundraiserList(BaseModel):
    data: list[NonprofitFundraiserOut]
    next_offset: int | None = Field(description="the offset of the next page, or null at the end")


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(
        default=None, min_length=1, max_length=2000, description="why (kept in the audit log)"
    )


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expected_revision: int | None = Field(
        default=None,
        ge=0,
        le=2_147_483_647,
        description="the content_revision you reviewed: a later edit is refused (409 fundraiser_changed)",
    )


class TeamOut(BaseModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    slug: str
    name: str
    created_at: datetime
    members: int = Field(description="fundraiser pages in the team, whatever their status")
    raised_minor: int
    currency: str
    donors: int = Field(description="distinct donors across the team's pages")
    page_url: str


class TeamList(BaseModel):
    data: list[TeamOut]
