"""Request and response shapes of the public checkout API; money is `amount_minor` + `currency`."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from service.validation import Email, MinorAmount, Text, documented

Message = Annotated[Text, StringConstraints(max_length=500)]


def _display_name(value: str) -> str:
    # Trimmed first, then measured: "  Ada  " is Ada, and a name of spaces is no name at all.
    value = value.strip()
    if not value:
        raise ValueError("type a name, or leave the field out to give as Anonymous")
    if len(value) > NAME_MAX:
        raise ValueError(f"keep the name to {NAME_MAX} characters or fewer")
    return value


NAME_MAX = 80
DonorName = Annotated[Text, AfterValidator(_display_name), documented(minLength=1, maxLength=NAME_MAX)]
ShareCode = Annotated[
    str, StringConstraints(min_length=1, max_length=32), documented(pattern=r"^[A-Za-z0-9_-]+$")
]


class CheckoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_minor: MinorAmount = Field(description="the gift in minor units of the campaign's currency")
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)] = Field(
        description="must be the campaign's currency (lowercase ISO code)"
    )
    email: Email | None = Field(default=None, description="for the receipt; optional")
    anonymous: bool = Field(default=False, description="hide the donor's name on the campaign page")
    cover_fees: bool = Field(default=False, description="add an estimate of the processing fee on top")
    name: DonorName | None = Field(
        default=None,
        description="the donor's display name on the wall of support (1-80 characters), unless anonymous",
    )
    hide_amount: bool = Field(default=False, description="leave the amount off the wall of support")
    message: Message | None = Field(default=None, description="shown with the donation on the campaign page")
    ref: ShareCode | None = Field(default=None, description="code of the share link that brought the donor")
    language: Literal["nl", "en"] | None = Field(
        default=None,
        description="the donor's language for receipts and email; by default negotiated from Accept-Language",
    )
    frequency: Literal["once", "monthly", "yearly"] = Field(
        default="once",
        description=(
            "once, or a recurring gift: monthly or yearly through a Stripe subscription, each paid"
            " installment one donation (the first is donation_id)"
        ),
    )
    fundraiser: Annotated[str, StringConstraints(min_length=1, max_length=80)] | None = Field(
        default=None,
        description=(
            "the slug of the live fundraiser page the gift is made through (peer-to-peer): it counts for"
            " the fundraiser, their team and the campaign, referred by the fundraiser;"
            " 422 fundraiser_not_live when the page is not live for this campaign"
        ),
    )


class MatchQuoteOut(BaseModel):
    program_name: str
    currency: str
    amount_minor: int = Field(description="held from the pool until the Checkout Session expires")


class CheckoutOut(BaseModel):
    donation_id: uuid.UUID
    checkout_url: str
    match_quotes: list[MatchQuoteOut] = Field(default_factory=list)
    message_status: Literal["shown", "pending"] = Field(
        default="shown",
        description=(
            "pending: the keyword screen flagged the name or message, which stay off the wall of"
            " support until the nonprofit shows them (the gift itself counts as usual)"
        ),
    )


class DonationMatchOut(BaseModel):
    program_name: str
    amount_minor: int = Field(description="what the match is worth now (net of any clawback)")
    currency: str
    amount_text: str = Field(description="amount_minor formatted for people")
    status: str = Field(description="pending, held_for_review, approved, paid or voided")
    status_text: str = Field(description="the status in words, with the reason when not matched")


class DonationStatusOut(BaseModel):
    state: str = Field(description="processing, confirmed, or the donation status (failed, expired...)")
    amount_minor: int
    fee_cover_minor: int
    currency: str
    share_url: str | None
    matches: list[DonationMatchOut] = Field(default_factory=list, description="the matches this gift earned")
    awaiting_matches: bool = Field(
        default=False, description="a match was quoted at checkout and is not recorded yet: ask again shortly"
    )
