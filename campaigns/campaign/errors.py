"""Errors of the campaign domain, each with a stable code."""

from __future__ import annotations

from service.errors import Conflict, DomainError, NotFound


class CampaignNotFound(NotFound):
    code = "campaign_not_found"


class IllegalTransition(Conflict):
    code = "illegal_transition"


class SlugTaken(Conflict):
    code = "slug_taken"


class NonprofitNotVerified(Conflict):
    code = "nonprofit_not_verified"


class FieldLocked(Conflict):
    code = "field_locked"


class PausedByModerator(Conflict):
    code = "campaign_paused_by_moderator"


class InvalidImage(DomainError):
    """An upload that is not a usable JPEG, PNG or WebP (campaigns.campaign.cover)."""

    code = "invalid_image"
    status_code = 422


class ImageTooLarge(DomainError):
    code = "image_too_large"
    status_code = 413
