"""Errors of the matching domain, each with a stable code."""

from __future__ import annotations

from service.errors import Conflict, Forbidden, NotFound


class ProgramNotFound(NotFound):
    code = "matching_program_not_found"


class ProgramStarted(Conflict):
    code = "matching_program_started"


class MatchNotFound(NotFound):
    code = "match_not_found"


class IllegalMatchTransition(Conflict):
    code = "illegal_match_transition"


class OwnOrganisation(Forbidden):
    code = "own_organisation"


class AlreadyApproved(Conflict):
    code = "already_approved"


class AppealNotAllowed(Conflict):
    code = "appeal_not_allowed"


class PoolExhausted(Conflict):
    code = "matching_pool_exhausted"
