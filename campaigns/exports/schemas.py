"""Export filters, as query parameters. A nonprofit's filters never name a nonprofit: the
caller's own organisation is the scope, so there is nothing to tamper with."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
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


UtcDateTime = Annotated[datetime, AfterValidator(_utc)]


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
