"""Errors of the nonprofits domain, each with a stable code."""

from __future__ import annotations

from service.errors import Conflict, Forbidden, NotFound


class EmailTaken(Conflict):
    code = "email_taken"


class NonprofitNotFound(NotFound):
    code = "nonprofit_not_found"


class RoleRequired(Forbidden):
    code = "role_required"


class InviteInvalid(NotFound):
    code = "invite_invalid"


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"


class IllegalNonprofitTransition(Conflict):
    code = "illegal_nonprofit_transition"
