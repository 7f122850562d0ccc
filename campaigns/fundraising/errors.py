"""Errors of peer-to-peer fundraising, each with a stable code and one HTTP status."""

from __future__ import annotations

from service.errors import Conflict, DomainError, NotFound


class FundraiserNotFound(NotFound):
    """No such page in this campaign, or not public (only live pages are shown)."""

    code = "fundraiser_not_found"


class TeamNotFound(NotFound):
    code = "team_not_found"


class FundraisersDisabled(Conflict):
    """The campaign does not take supporters' pages (peer-to-peer is off, or it is not live)."""

    code = "fundraisers_disabled"


class FundraiserNotLive(DomainError):
    """The checkout named a fundraiser that is not live for this campaign."""

    code = "fundraiser_not_live"
    status_code = 422


class IllegalFundraiserTransition(Conflict):
    """The page cannot move there from where it is (an ended page is final)."""

    code = "illegal_fundraiser_transition"


class FundraiserChanged(Conflict):
    """The page changed after the reviewer opened it: approving would publish what nobody saw."""

    code = "fundraiser_changed"


class SignInRequired(DomainError):
    """The fundraiser's session is missing, expired or for another campaign or address."""

    code = "fundraiser_sign_in_required"
    status_code = 401
