"""Request and response shapes for campaigns; money is always `*_minor` with `currency`."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal, Protocol

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from campaigns.campaign.models import Campaign, CampaignStatus
from service.money import STRIPE_CURRENCIES, MoneyError, currency
from service.pagination import PageQuery
from service.validation import HttpsUrl, MinorAmount, Name, Text, documented

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,78}[a-z0-9])$")
# Paths of our own that a slug must not shadow in share links and logs.
_RESERVED_SLUGS = frozenset({"new", "edit", "admin", "api", "embed", "static", "dashboard", "login"})


def _slug(value: str) -> str:
    if not _SLUG.match(value) or "--" in value:
        raise ValueError("use 3-80 lowercase letters, digits and single hyphens, e.g. 'winter-coats-2026'")
    if value in _RESERVED_SLUGS:
        raise ValueError("this slug is reserved")
    return value


def _currency(value: str) -> str:
    try:
        return currency(value).code
    except MoneyError as e:
        raise ValueError(str(e)) from e


# Exactly what a browser sends as an origin: scheme, lowercase host, optional port; plain http
# only for a developer's own machine. Validated and documented by the same pattern.
ORIGIN_PATTERN = (
    r"^(https://[a-z0-9-]+(\.[a-z0-9-]+)+(:[0-9]{1,5})?|http://(localhost|127\.0\.0\.1)(:[0-9]{1,5})?)$"
)


def _origin(value: str) -> str:
    if not re.fullmatch(ORIGIN_PATTERN, value):
        raise ValueError(
            "an origin is https://host[:port] in lowercase, with no path or wildcard "
            "(http only for localhost)"
        )
    return value


def _distinct_sorted(values: list[int]) -> list[int]:
    if len(set(values)) != len(values):
        raise ValueError("suggested amounts must be different from each other")
    return sorted(values)


Slug = Annotated[
    str,
    StringConstraints(min_length=3, max_length=80),
    AfterValidator(_slug),
    documented(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$"),
]
CurrencyCode = Annotated[
    str,
    StringConstraints(min_length=3, max_length=3),
    AfterValidator(_currency),
    documented(enum=sorted(STRIPE_CURRENCIES), description="lowercase ISO code Stripe supports"),
]
Story = Annotated[Text, StringConstraints(max_length=50_000)]
Origin = Annotated[
    str,
    StringConstraints(max_length=300),
    AfterValidator(_origin),
    documented(pattern=ORIGIN_PATTERN),
]
SuggestedAmounts = Annotated[
    list[MinorAmount], Field(max_length=6), AfterValidator(_distinct_sorted), documented(uniqueItems=True)
]
Origins = Annotated[list[Origin], Field(max_length=20)]
Language = Literal["nl", "en"]
"""A language Goodloop's pages speak (service.i18n)."""


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Name
    slug: Slug
    story: Story
    currency: CurrencyCode
    goal_minor: MinorAmount
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    suggested_amounts_minor: SuggestedAmounts = Field(default_factory=list)
    min_amount_minor: MinorAmount | None = None
    max_amount_minor: MinorAmount | None = None
    cover_image_url: HttpsUrl | None = None
    allowed_embed_origins: Origins = Field(default_factory=list)
    default_language: Language | None = None
    """What visitors read when their browser names no language Goodloop speaks; left out, it is
    the nonprofit's country's (nl for NL and BE, else en)."""
    fundraisers_enabled: bool = False
    """Supporters may start their own fundraiser pages for this campaign (peer-to-peer)."""
    fundraisers_need_approval: bool = False
    """Each fundraiser page waits for the nonprofit's approval before it is public."""


class CampaignPatch(BaseModel):
    """Only the fields present change; null clears an optional field."""

    model_config = ConfigDict(extra="forbid")

    title: Name | None = None
    slug: Slug | None = None
    story: Story | None = None
    currency: CurrencyCode | None = None
    goal_minor: MinorAmount | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    suggested_amounts_minor: SuggestedAmounts | None = None
    min_amount_minor: MinorAmount | None = None
    max_amount_minor: MinorAmount | None = None
    cover_image_url: HttpsUrl | None = None
    allowed_embed_origins: Origins | None = None
    default_language: Language | None = None
    fundraisers_enabled: bool | None = None
    fundraisers_need_approval: bool | None = None


class CoverImageOut(BaseModel):
    width: int
    height: int
    webp_url: str
    jpeg_url: str


class CoverOut(BaseModel):
    """An uploaded cover: its alt text and its variants, narrowest first."""

    alt: str
    width: int
    height: int
    images: list[CoverImageOut]


class CoverUpload(BaseModel):
    """PUT /campaigns/{id}/cover takes multipart/form-data with these two fields."""

    image: bytes = Field(json_schema_extra={"format": "binary", "contentMediaType": "image/*"})
    """A JPEG, PNG or WebP image of at most 5 MB."""
    alt: str = Field(min_length=1, max_length=300)
    """What the image shows, for people who cannot see it."""


class CampaignOut(BaseModel):
    id: uuid.UUID
    nonprofit_id: uuid.UUID
    slug: str
    status: CampaignStatus
    title: str
    story: str
    story_html: str
    currency: str
    goal_minor: int
    starts_at: datetime | None
    ends_at: datetime | None
    suggested_amounts_minor: list[int]
    min_amount_minor: int
    max_amount_minor: int | None
    cover_image_url: str | None
    cover: CoverOut | None = None
    """The uploaded cover, shown instead of cover_image_url when there is one."""
    allowed_embed_origins: list[str]
    default_language: Language
    fundraisers_enabled: bool
    fundraisers_need_approval: bool
    review_note: str | None
    admin_pause_reason: str | None = None
    """Why a moderator paused the campaign (only a moderator can resume it then)."""
    submitted_at: datetime | None
    approved_at: datetime | None
    created_at: datetime
    updated_at: datetime
    public_url: str


class CampaignList(BaseModel):
    data: list[CampaignOut]
    next_cursor: str | None


class CampaignListQuery(PageQuery):
    status: CampaignStatus | None = None


class UrlFor(Protocol):
    """An absolute URL from a route name: `public_url_for` bound to a request in the API, or
    `service.mail.links.url` where there is no request (a fact's data, an email)."""

    def __call__(self, name: str, /, **params: Any) -> str: ...


def campaign_shape(campaign: Campaign, url_for: UrlFor) -> CampaignOut:
    """The campaign as the API shows it (campaigns.campaign.web.campaign_out for a request)."""
    return CampaignOut(
        id=campaign.id,
        nonprofit_id=campaign.nonprofit_id,
        slug=campaign.slug,
        status=campaign.status,
        title=campaign.title,
        story=campaign.story_markdown,
        story_html=campaign.story_html,
        currency=campaign.currency,
        goal_minor=campaign.goal_minor,
        starts_at=campaign.starts_at,
        ends_at=campaign.ends_at,
        suggested_amounts_minor=list(campaign.suggested_amounts_minor),
        min_amount_minor=campaign.min_amount_minor,
        max_amount_minor=campaign.max_amount_minor,
        cover_image_url=campaign.cover_image_url,
        cover=cover_shape(campaign, url_for),
        allowed_embed_origins=list(campaign.allowed_embed_origins),
        default_language="nl" if campaign.default_language == "nl" else "en",
        fundraisers_enabled=campaign.fundraisers_enabled,
        fundraisers_need_approval=campaign.fundraisers_need_approval,
        review_note=campaign.review_note,
        admin_pause_reason=campaign.admin_pause_reason,
        submitted_at=campaign.submitted_at,
        approved_at=campaign.approved_at,
        created_at=campaign.created_at,
        updated_at=campaign.updated_at,
        public_url=url_for("giving:campaign", slug=campaign.slug),
    )


def cover_shape(campaign: Campaign, url_for: UrlFor) -> CoverOut | None:
    if campaign.cover_key is None or campaign.cover_alt is None or not campaign.cover_widths:
        return None

    def url(w: int, extension: str) -> str:
        return url_for("media:file", name=campaign.cover_file(w, extension))

    return CoverOut(
        alt=campaign.cover_alt,
        width=campaign.cover_width or 0,
        height=campaign.cover_height or 0,
        images=[
            CoverImageOut(
                width=w, height=campaign.cover_height_for(w), webp_url=url(w, "webp"), jpeg_url=url(w, "jpg")
            )
            for w in campaign.cover_widths
        ],
    )
