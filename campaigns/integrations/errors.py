"""Errors of the outbound webhook API; each maps to one status and code."""

from __future__ import annotations

from service.errors import Conflict, NotFound


class EndpointNotFound(NotFound):
    code = "webhook_endpoint_not_found"


class DeliveryNotFound(NotFound):
    code = "webhook_delivery_not_found"


class TooManyEndpoints(Conflict):
    code = "too_many_webhook_endpoints"


class EndpointDisabled(Conflict):
    code = "webhook_endpoint_disabled"
