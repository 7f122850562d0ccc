"""The first-touch referral cookie: which share link brought this browser to a campaign.

Signed (itsdangerous) so a visitor cannot attribute a donation to a link of their choosing by
editing a cookie, timestamped so attribution lapses after the window, and bound once: a
valid cookie is never replaced by a later link (first touch wins). One cookie per campaign,
so a link for one campaign does not block attribution on another.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer

REFERRAL_WINDOW = timedelta(days=30)
_SALT = "goodloop.referral.v1"
COOKIE_PREFIX = "gl_ref_"


def cookie_name(campaign_id: uuid.UUID) -> str:
    return f"{COOKIE_PREFIX}{campaign_id.hex[:16]}"


def sign_referral(secret_key: str, *, link_id: uuid.UUID, campaign_id: uuid.UUID) -> str:
    serializer = URLSafeTimedSerializer(secret_key, salt=_SALT)
    return serializer.dumps({"l": link_id.hex, "c": campaign_id.hex})


def read_referral(
    secret_key: str, value: str | None, *, campaign_id: uuid.UUID, window: timedelta = REFERRAL_WINDOW
) -> uuid.UUID | None:
    """The link id in a valid, unexpired cookie for this campaign; None otherwise."""
    if not value:
        return None
    serializer = URLSafeTimedSerializer(secret_key, salt=_SALT)
    try:
        data = serializer.loads(value, max_age=int(window.total_seconds()))
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("c") != campaign_id.hex:
        return None
    try:
        return uuid.UUID(hex=str(data.get("l")))
    except ValueError:
        return None
