"""Request and response shapes of peer-to-peer fundraising (public API, and the nonprofit's view
that the dashboard, the nonprofit API and the facts' `data` share)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from campaigns.fundraising.models import Fundraiser, FundraiserStatus

MAX_STORY_LENGTH = 10_000


class TeamChoiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    join: str | None = Field(default=None, max_length=80, description="the slug of a team of this campaign")
    create: str | None = Field(default=None, min_length=1, max_length=100, description="a new team's name")

    @model_validator(mode="after")
    def _one_of(self) -> TeamChoiceIn:
        if (self.join is None) == (self.create is None):
            raise ValueError("give either join (a team's slug) or create (a new team's name)")
        return self


class FundraiserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="your name as shown on the page")
    email: str = Field(
        min_length=3, max_length=320, description="where the confirmation link goes; never shown"
    )
    title: str = Field(min_length=3, max_length=120)
    story: str = Field(default="", max_length=MAX_STORY_LENGTH, description="Markdown")
    goal_minor: int | None = Field(default=None, gt=0, description="in the campaign's currency")
    team: TeamChoiceIn | None = None
    language: Literal["nl", "en"] | None = Field(
        default=None, description="the language of your emails (default: the campaign's)"
    )


class AcceptedOut(BaseModel):
    message: str


class MoneyOut(BaseModel):
    amount_minor: int
    currency: str


class MilestoneOut(BaseModel):
    kind: Literal["first_donor", "ten_donors", "goal_reached"]
    reached_at: datetime


class TeamRefOut(BaseModel):
    slug: str
    name: str
    url: str


class PhotoOut(BaseModel):
    alt: str
    width: int
    height: int
    srcset_webp: str
    srcset_jpeg: str
    src: str


class PublicFundraiserOut(BaseModel):
    slug: str
    title: str
    name: str
    story_html: str
    goal: MoneyOut | None
    raised: MoneyOut = Field(description="settled gifts through the page, net of refunds")
    donors: int = Field(description="distinct donors (identity clusters; excluded donors not counted)")
    team: TeamRefOut | None
    milestones: list[MilestoneOut]
    photo: PhotoOut | None
    url: str = Field(description="the fundraiser's page")
    share_url: str = Field(description="the fundraiser's share link")
    campaign_slug: str
    organisation: str = Field(description="the verified nonprofit that receives every gift")


class TeamMemberOut(BaseModel):
    slug: str
    name: str
    title: str
    url: str
    raised: MoneyOut
    donors: int


class PublicTeamOut(BaseModel):
    slug: str
    name: str
    url: str
    raised: MoneyOut
    donors: int = Field(description="distinct donors across the team's pages")
    members: list[TeamMemberOut]
    campaign_slug: str


class LeaderboardEntryOut(BaseModel):
    rank: int
    slug: str
    name: str
    title: str | None = Field(description="a fundraiser's page title; null for a team")
    url: str
    donors: int
    raised: MoneyOut


class LeaderboardOut(BaseModel):
    of: Literal["fundraisers", "teams"]
    by: Literal["donors", "amount"]
    entries: list[LeaderboardEntryOut] = Field(description="top 50 at most")


class FundraiserOut(BaseModel):
    """The nonprofit's view of a page (dashboard, nonprofit API, facts' data)."""

    id: uuid.UUID
    campaign_id: uuid.UUID
    slug: str
    name: str
    email: str | None = Field(
        description="the fundraiser's address once they confirmed it; null while unconfirmed"
    )
    title: str
    story_markdown: str
    content_revision: int = Field(
        description="counts changes to the title, story, photo or a new team's name; "
        "send it as expected_revision when approving"
    )
    status: FundraiserStatus
    goal_minor: int | None
    currency: str
    team_id: uuid.UUID | None
    screen_flags: list[dict[str, str]]
    created_at: datetime
    confirmed_at: datetime | None
    approved_at: datetime | None
    hidden_at: datetime | None
    ended_at: datetime | None


def fundraiser_out(fundraiser: Fundraiser) -> FundraiserOut:
    return FundraiserOut(
        id=fundraiser.id,
        campaign_id=fundraiser.campaign_id,
        slug=fundraiser.slug,
        name=fundraiser.name,
        # An address nobody confirmed may be a stranger's, typed in by someone else.
        email=fundraiser.email if fundraiser.confirmed_at is not None else None,
        title=fundraiser.title,
        story_markdown=fundraiser.story_markdown,
        content_revision=fundraiser.content_revision,
        status=fundraiser.status,
        goal_minor=fundraiser.goal_minor,
        currency=fundraiser.currency,
        team_id=fundraiser.team_id,
        screen_flags=list(fundraiser.screen_flags or []),
        created_at=fundraiser.created_at,
        confirmed_at=fundraiser.confirmed_at,
        approved_at=fundraiser.approved_at,
        hidden_at=fundraiser.hidden_at,
        ended_at=fundraiser.ended_at,
    )
