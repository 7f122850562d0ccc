"""Request and response shapes of a member's notification settings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from campaigns.notifications.models import GiftEmails
from service.validation import Email


class NotificationSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gift_emails: GiftEmails = Field(
        description="`each`: an email per gift; `daily`: one summary the morning after a day with gifts; "
        "`none`: no gift emails."
    )
    money_emails: bool = Field(description="Emails about payouts and match decisions.")
    language: Literal["nl", "en"] = Field(description="The language of this member's emails.")


class NotificationSettingsOut(BaseModel):
    member_id: str
    gift_emails: GiftEmails
    money_emails: bool
    language: Literal["nl", "en"]
    chosen: bool = Field(description="False while the member has the defaults.")


class ForgotPasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
