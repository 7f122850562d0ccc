"""Request and response shapes for nonprofits, members and API keys."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from campaigns.nonprofits.models import MemberRole, NonprofitStatus
from service.validation import Country, Email, HttpUrl, Name, Password, Reason


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignUpIn(Request):
    name: Name
    contact_email: Email
    password: Password
    country: Country
    registration_number: Name = Field(max_length=100)
    website: HttpUrl


class NonprofitOut(BaseModel):
    id: uuid.UUID
    name: str
    contact_email: str
    country: str
    registration_number: str
    website: str
    status: NonprofitStatus
    status_reason: str | None
    created_at: datetime
    verified_at: datetime | None


class SignUpOut(NonprofitOut):
    api_key: str = Field(description="Shown once; only a hash is stored.")
    api_key_prefix: str


class ApiKeyIn(Request):
    name: Name = Field(max_length=100)


class ApiKeyOut(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreatedOut(ApiKeyOut):
    api_key: str = Field(description="Shown once; only a hash is stored.")


class ApiKeyList(BaseModel):
    data: list[ApiKeyOut]


class MemberOut(BaseModel):
    id: uuid.UUID
    email: str
    role: MemberRole
    created_at: datetime
    last_login_at: datetime | None


class MemberList(BaseModel):
    data: list[MemberOut]


class InviteIn(Request):
    email: Email
    role: MemberRole


class InviteOut(BaseModel):
    id: uuid.UUID
    email: str
    role: MemberRole
    expires_at: datetime
    accept_url: str = Field(description="Shown once; send it to the invitee.")


class AcceptInviteIn(Request):
    password: Password


class RejectIn(Request):
    reason: Reason


class NonprofitList(BaseModel):
    data: list[NonprofitOut]
    next_cursor: str | None
