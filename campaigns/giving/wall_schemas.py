"""Request and response shapes of the wall of support (messages) and campaign updates."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from campaigns.donations.models import MessageStatus
from campaigns.giving.models import UpdateStatus
from service.pagination import PageQuery
from service.validation import Line, Reason, Text, documented

UpdateTitle = Annotated[Line, StringConstraints(max_length=200)]
BODY_MAX = 5_000


def _body(value: str) -> str:
    # Trimmed, then measured: an update of blank lines says nothing.
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    if len(value) > BODY_MAX:
        raise ValueError(f"must be at most {BODY_MAX:,} characters")
    return value


UpdateBody = Annotated[Text, AfterValidator(_body), documented(minLength=1, maxLength=BODY_MAX)]


class FlagOut(BaseModel):
    term: str
    category: str
    sentence: str = Field(description="why a person should look at this phrase")


class MessageOut(BaseModel):
    donation_id: uuid.UUID
    created_at: datetime | None
    name: str | None = Field(description="the name the donor typed (also when anonymous)")
    anonymous: bool
    display_name: str = Field(description='what the public wall shows: the name or "Anonymous"')
    amount_minor: int
    currency: str
    hide_amount: bool
    message: str | None
    status: MessageStatus = Field(
        description="shown; pending (flagged by the keyword screen, off the wall until shown); hidden"
    )
    flags: list[FlagOut]
    open_reports: int = Field(description="visitors' reports about this message not yet resolved")


class MessageList(BaseModel):
    data: list[MessageOut]
    next_cursor: str | None


class MessageQuery(PageQuery):
    status: MessageStatus | None = None


class UpdateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: UpdateTitle | None = Field(default=None, description="optional headline")
    body: UpdateBody = Field(description="Markdown, up to 5,000 characters; raw HTML is not rendered")


class UpdateOut(BaseModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    title: str | None
    body: str = Field(description="the Markdown as posted")
    body_html: str = Field(description="sanitised HTML, as the campaign page shows it")
    status: UpdateStatus = Field(
        description="published, or held: flagged by the keyword screen, off the page for a moderator"
    )
    flags: list[str] = Field(description="the keyword screen's phrases found in it")
    created_at: datetime


class UpdateList(BaseModel):
    data: list[UpdateOut]
    next_cursor: str | None


class PublicUpdateOut(BaseModel):
    id: uuid.UUID
    title: str | None
    body_html: str
    created_at: datetime


class PublicUpdateList(BaseModel):
    data: list[PublicUpdateOut]
    next_cursor: str | None


class PublishIn(BaseModel):
    """A moderator lets a held update onto the campaign page, with an optional note."""

    model_config = ConfigDict(extra="forbid")

    note: Reason | None = None
