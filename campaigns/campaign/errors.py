"""Errors of the campaign domain, each with a stable code."""

from __future__ import annotations

from service.errors import Conflict, NotFound


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
