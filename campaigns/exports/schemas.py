"""Export filters, as query parameters. A nonprofit's filters never name a nonprofit: the
caller's own organisation is the scope, so there is nothing to tamper with."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from campaigns.donations.models import DonationStatus
from campaigns.matching.models import MatchStatus
from service.validation import Line


def _utc(value: datetime) -> datetime:
    # A bare date or a time without an offset (what a date picker sends) is read as UTC.
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as e:
        raise ValueError("is out of range") from e


_ISO_DATE_START = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"


def _iso_text(value: object) -> object:
    # pydantic would read "1700000000" (or "-3e-62") as a Unix timestamp; a filter is a date.
    if isinstance(value, str) and (len(value) > 64 or not re.match(_ISO_DATE_START, value)):
        raise ValueError("use an ISO 8601 date or date-time, like 2026-11-28 or 2026-11-28T09:00:00Z")
    return value


UtcDateTime = Annotated[
    datetime,
    BeforeValidator(_iso_text),
    AfterValidator(_utc),
    WithJsonSchema({"type": "string", "pattern": _ISO_DATE_START, "maxLength": 64}),
]


class ExportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: UtcDateTime | None = Field(
        default=None, description="Created at or after (ISO 8601; UTC if no offset)"
    )
    until: UtcDateTime | None = Field(default=None, description="Created before (ISO 8601; UTC if no offset)")

    @field_validator("until")
    @classmethod
    def _after_since(cls, until: datetime | None, info: ValidationInfo) -> datetime | None:
        since = info.data.get("since")
        if until is not None and since is not None and until <= since:
            raise ValueError("must be later than since")
        return until


class DonationExportQuery(ExportQuery):
    campaign_id: uuid.UUID | None = None
    status: DonationStatus | None = None


class AdminScope(BaseModel):
    """An admin may narrow any export to one organisation."""

    nonprofit_id: uuid.UUID | None = None


class AdminDonationExportQuery(DonationExportQuery, AdminScope):
    pass


class MatchExportQuery(ExportQuery):
    campaign_id: uuid.UUID | None = None
    program_id: uuid.UUID | None = None
    status: MatchStatus | None = None


class AdminMatchExportQuery(MatchExportQuery, AdminScope):
    pass


class AuditExportQuery(ExportQuery, AdminScope):
    """The console audit page's filters."""

    action: str | None = Field(default=None, max_length=64, pattern=r"^[a-z_.]+$")
    subject_type: str | None = Field(default=None, max_length=32, pattern=r"^[a-z_]+$")
    subject_id: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    actor: Annotated[Line, StringConstraints(min_length=1, max_length=320)] | None = Field(
        default=None, description="The actor's label (an admin's or member's email) or id"
    )
