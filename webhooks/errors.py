"""Webhook errors: refusals at the door (4xx/503) and the processor's one retryable error."""

from __future__ import annotations

from service.errors import DomainError


class WebhookRejected(DomainError):
    """The delivery is not a genuine, well-formed Stripe event for this endpoint."""

    code = "webhook_rejected"
    status_code = 400


class InboxUnavailable(DomainError):
    """The inbox could not store the event; 503 makes Stripe retry the delivery later."""

    code = "inbox_unavailable"
    status_code = 503
    retry_after_s = 30


class IntakeBusy(DomainError):
    """Too many deliveries are already waiting to be stored: 503 now beats a queue without end."""

    code = "intake_busy"
    status_code = 503
    retry_after_s = 5


class NotYetKnown(Exception):
    """The event refers to something we have not recorded yet (Stripe delivers out of order).

    The processor retries it with backoff; after enough attempts it becomes a dead letter.
    """
