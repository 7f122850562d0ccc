"""Request and response shapes of the outbound webhook API (/api/v1/webhook-endpoints)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from campaigns import facts
from campaigns.integrations.endpoint_models import AttemptOutcome, DeliveryStatus, DisabledReason
from service.pagination import CursorToken
from service.validation import Line, documented

WILDCARD = "*"
TEST_EVENT = "webhook_endpoint.test"
EVENT_CHOICES: tuple[str, ...] = (WILDCARD, *facts.TYPES)
MAX_URL_LENGTH = 2048


def _event_types(values: list[str]) -> list[str]:
    unknown = [v for v in values if v not in EVENT_CHOICES]
    if unknown:
        raise ValueError(f"unknown event type {unknown[0]!r}; choose from: {', '.join(EVENT_CHOICES)}")
    if WILDCARD in values and len(values) > 1:
        raise ValueError('"*" means every type; give it alone')
    return list(dict.fromkeys(values))


EventTypes = Annotated[
    list[Annotated[str, documented(enum=list(EVENT_CHOICES))]],
    Field(min_length=1, max_length=len(EVENT_CHOICES)),
    AfterValidator(_event_types),
]
EndpointUrl = Annotated[
    Line,
    StringConstraints(min_length=1, max_length=MAX_URL_LENGTH),
    documented(format="uri", pattern=r"^https?://[^\s]+$"),
]
Description = Annotated[Line, StringConstraints(max_length=500)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WebhookEndpointIn(Request):
    url: EndpointUrl = Field(description="https:// only; Goodloop refuses addresses that are not public.")
    enabled_events: EventTypes = Field(description='Event types to send, or ["*"] for all.')
    description: Description = ""
    enabled: bool = True


class WebhookEndpointPatch(Request):
    url: EndpointUrl | None = None
    enabled_events: EventTypes | None = None
    description: Description | None = None
    enabled: bool | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> WebhookEndpointPatch:
        # Leaving a field out keeps it; null would mean "no URL" or "no events", which no
        # endpoint can have.
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null; leave it out to keep it")
        return self


class WebhookEndpointOut(BaseModel):
    id: uuid.UUID
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    url: str
    enabled_events: list[str]
    description: str
    enabled: bool
    disabled_reason: DisabledReason | None
    disabled_at: datetime | None
    failing_since: datetime | None
    last_success_at: datetime | None
    secret_rolled_at: datetime | None
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class WebhookEndpointCreatedOut(WebhookEndpointOut):
    secret: str = Field(description="The signing secret (whsec_...): shown once, here.")


class WebhookSecretOut(BaseModel):
    id: uuid.UUID
    secret: str = Field(description="The new signing secret: shown once, here.")
    previous_secret_expires_at: datetime | None = Field(
        description="Until then deliveries carry a v1 signature with the old secret too."
    )


class WebhookEndpointList(BaseModel):
    data: list[WebhookEndpointOut]


class DeliveryAttemptOut(BaseModel):
    attempted_at: datetime
    outcome: AttemptOutcome
    status_code: int | None
    latency_ms: int
    response_body: str = Field(description="At most the first 1 KB of the answer, as text.")
    error: str | None


class DeliveryOut(BaseModel):
    id: uuid.UUID
    object: Literal["webhook_delivery"] = "webhook_delivery"
    endpoint_id: uuid.UUID
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    log: list[DeliveryAttemptOut] = Field(description="Every attempt, newest first.")


class DeliveryList(BaseModel):
    data: list[DeliveryOut]
    next_cursor: str | None


class DeliveryQuery(Request):
    limit: int = Field(default=20, ge=1, le=100)
    cursor: CursorToken | None = None
    status: DeliveryStatus | None = None


class ReplayIn(Request):
    since: datetime | None = Field(
        default=None, description="Send again every failed delivery created at or after this time."
    )
    event_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        default=None, description="Send this one event again (whatever its delivery's status)."
    )

    @model_validator(mode="after")
    def _one_of(self) -> ReplayIn:
        if (self.since is None) == (self.event_id is None):
            raise ValueError("give either since or event_id")
        if self.since is not None and self.since.tzinfo is None:
            raise ValueError("since needs a time zone, like 2026-12-24T18:00:00Z")
        return self


class ReplayOut(BaseModel):
    replayed: int = Field(description="Deliveries queued to be sent again now.")
