"""Errors of the donor's path, each with a stable code."""

from __future__ import annotations

from service.errors import Conflict, DomainError, NotFound


class DonationsClosed(Conflict):
    """The campaign exists but takes no donations now; the detail says why."""

    code = "donations_closed"


class DonationNotFound(NotFound):
    code = "donation_not_found"


class FormExpired(DomainError):
    code = "form_expired"
    status_code = 400


class PaymentProviderUnavailable(DomainError):
    """Stripe could not be reached or refused the request; the donation was marked failed."""

    code = "payment_provider_unavailable"
    status_code = 503
