"""Errors in Stripe's shape, so the real SDK raises its real exception classes."""

from __future__ import annotations

from typing import Any


class StripeApiError(Exception):
    """Rendered as `{"error": {...}}` with the HTTP status Stripe uses for the same failure."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int = 400,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.type = type
        self.code = code
        self.param = param
        self.extra = extra or {}

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message, **self.extra}
        if self.code is not None:
            error["code"] = self.code
        if self.param is not None:
            error["param"] = self.param
        return {"error": error}


def resource_missing(kind: str, object_id: str, *, param: str = "id") -> StripeApiError:
    return StripeApiError(
        f"No such {kind}: '{object_id}'", status_code=404, code="resource_missing", param=param
    )


def missing_param(param: str) -> StripeApiError:
    return StripeApiError(f"Missing required param: {param}.", code="parameter_missing", param=param)


def invalid_param(param: str, message: str) -> StripeApiError:
    return StripeApiError(message, code="parameter_invalid", param=param)
