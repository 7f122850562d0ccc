"""Request and response shapes of the matching API; money is `*_minor` with `currency`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from campaigns.matching.models import FunderKind, MatchStatus, Policy, ProgramStatus, RecurringRule
from campaigns.matching.policies import PolicyParams
from service.money import MoneyError, currency
from service.pagination import PageQuery
from service.validation import MinorAmount, Name, Reason


def _currency(value: str) -> str:
    try:
        return currency(value).code
    except MoneyError as e:
        raise ValueError(str(e)) from e


CurrencyCode = Annotated[str, Field(min_length=3, max_length=3), AfterValidator(_currency)]


class ProgramIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    funder_kind: FunderKind = FunderKind.PLATFORM
    funder_name: Name | None = None
    currency: CurrencyCode
    budget_minor: MinorAmount
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    campaign_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=1000)] | None = None
    verified_nonprofits_only: bool = True
    min_donation_minor: Annotated[int, Field(ge=0, le=10**12)] = 0
    per_donation_cap_minor: MinorAmount | None = None
    per_donor_cap_minor: MinorAmount | None = None
    per_campaign_cap_minor: MinorAmount | None = None
    allow_partial: bool = True
    hold_days: Annotated[int, Field(ge=0, le=120)] = 7
    review_threshold_minor: MinorAmount | None = None
    max_risk_score: Annotated[int, Field(ge=0, le=100)] = 65
    recurring_rule: RecurringRule = Field(
        default=RecurringRule.FIRST_INSTALLMENT,
        description=(
            "recurring gifts: match the first installment only (first_installment), or each paid"
            " installment up to the caps (each_installment)"
        ),
    )
    policy: PolicyParams

    @model_validator(mode="after")
    def _coherent(self) -> ProgramIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if self.funder_kind is FunderKind.SPONSOR and not self.funder_name:
            raise ValueError("a sponsor-funded program names its funder (funder_name)")
        deadline = getattr(self.policy, "deadline", None)
        if deadline is not None and not self.starts_at < deadline <= self.ends_at:
            raise ValueError("the challenge deadline must fall inside the program's window")
        return self


class ProgramPatch(BaseModel):
    """Only a program that has not started may change its terms; a name can always change."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    ends_at: AwareDatetime | None = None
    per_donation_cap_minor: MinorAmount | None = None
    per_donor_cap_minor: MinorAmount | None = None
    per_campaign_cap_minor: MinorAmount | None = None
    review_threshold_minor: MinorAmount | None = None
    min_donation_minor: Annotated[int, Field(ge=0, le=10**12)] | None = None
    hold_days: Annotated[int, Field(ge=0, le=120)] | None = None
    recurring_rule: RecurringRule | None = None

    @field_validator("name", "ends_at", "min_donation_minor", "hold_days", "recurring_rule")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Left out means "unchanged"; an explicit null would clear a column that must have a
        # value. (The caps and the review threshold may be null: null means "none".)
        if value is None:
            raise ValueError("may not be null; leave the field out to keep its value")
        return value


class PoolOut(BaseModel):
    budget_minor: int
    available_minor: int
    held_minor: int
    reserved_minor: int
    paid_minor: int
    recovered_minor: int
    returned_minor: int


class ProgramOut(BaseModel):
    id: uuid.UUID
    name: str
    funder_kind: FunderKind
    funder_name: str
    currency: str
    starts_at: datetime
    ends_at: datetime
    status: ProgramStatus
    campaign_ids: list[uuid.UUID] | None
    verified_nonprofits_only: bool
    min_donation_minor: int
    per_donation_cap_minor: int | None
    per_donor_cap_minor: int | None
    per_campaign_cap_minor: int | None
    allow_partial: bool
    hold_days: int
    review_threshold_minor: int | None
    max_risk_score: int
    recurring_rule: RecurringRule
    policy: Policy
    policy_params: dict[str, Any]
    pool: PoolOut
    created_at: datetime
    ended_at: datetime | None


class ProgramList(BaseModel):
    data: list[ProgramOut]
    next_cursor: str | None


class ProgramQuery(PageQuery):
    status: ProgramStatus | None = None


class RiskReasonOut(BaseModel):
    code: str
    weight: int
    sentence: str


class MatchOut(BaseModel):
    id: uuid.UUID
    program_id: uuid.UUID
    donation_id: uuid.UUID | None
    campaign_id: uuid.UUID
    nonprofit_id: uuid.UUID
    cluster_id: uuid.UUID | None
    currency: str
    amount_minor: int
    original_minor: int
    recovered_minor: int
    status: MatchStatus
    risk_reasons: list[RiskReasonOut]
    hold_until: datetime
    void_reason: str | None
    decision_note: str | None
    created_at: datetime
    paid_at: datetime | None
    appeal_message: str | None = None
    appealed_at: datetime | None = None


class MatchList(BaseModel):
    data: list[MatchOut]
    next_cursor: str | None


class MatchQuery(PageQuery):
    status: MatchStatus | None = None
    program_id: uuid.UUID | None = None
    campaign_id: uuid.UUID | None = None


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Reason | None = None


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Reason


class QuoteOut(BaseModel):
    program_id: uuid.UUID
    program_name: str
    currency: str
    amount_minor: int


class BulkApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    match_ids: list[uuid.UUID] = Field(min_length=1, max_length=200)
    note: Reason | None = None


class SkippedMatch(BaseModel):
    match_id: uuid.UUID
    reason: str


class BulkApproveOut(BaseModel):
    approved: list[uuid.UUID]
    skipped: list[SkippedMatch]


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=10, max_length=2000)


class OwnMatchOut(BaseModel):
    """A match as its nonprofit sees it: status and reason in words, whether it can appeal."""

    id: uuid.UUID
    campaign_id: uuid.UUID
    donation_id: uuid.UUID | None
    currency: str
    amount_minor: int
    status: MatchStatus
    reason: str
    can_appeal: bool
    appeal_message: str | None
    appealed_at: datetime | None
    created_at: datetime
    paid_at: datetime | None


class OwnMatchList(BaseModel):
    data: list[OwnMatchOut]
    next_cursor: str | None


class OwnMatchQuery(PageQuery):
    status: MatchStatus | None = None
    campaign_id: uuid.UUID | None = None


class RiskSignalOut(BaseModel):
    code: str
    label: str
    weight: int
    default_weight: int
    threshold: int | None
    default_threshold: int | None
    threshold_meaning: str
    enabled: bool


class RiskSignalList(BaseModel):
    review_score: int
    data: list[RiskSignalOut]


class RiskSignalPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weight: int = Field(ge=0, le=1000)
    threshold: int | None = Field(default=None, ge=1, le=1_000_000)
    enabled: bool = True
