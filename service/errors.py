"""Typed domain errors and the one place that renders them as JSON."""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """An expected business outcome that the caller must hear about as a 4xx."""

    code: str = "bad_request"
    status_code: int = 400

    def __init__(self, detail: str, *, code: str | None = None, status_code: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code

    def to_json(self) -> dict[str, object]:
        return {"error": self.code, "detail": self.detail}


class NotFound(DomainError):
    code = "not_found"
    status_code = 404


class Conflict(DomainError):
    code = "conflict"
    status_code = 409


class Unauthenticated(DomainError):
    code = "unauthenticated"
    status_code = 401


class Forbidden(DomainError):
    code = "forbidden"
    status_code = 403


class RateLimited(DomainError):
    code = "rate_limited"
    status_code = 429

    def __init__(self, detail: str, *, retry_after_s: int) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class ValidationFailed(DomainError):
    """Bad input, with one message per field so forms can show each next to its field."""

    code = "validation_failed"
    status_code = 422

    def __init__(self, fields: Mapping[str, str], detail: str | None = None) -> None:
        self.fields = dict(fields)
        summary = detail or "; ".join(f"{name}: {message}" for name, message in self.fields.items())
        super().__init__(summary or "the request is not valid")

    def to_json(self) -> dict[str, object]:
        return {"error": self.code, "detail": self.detail, "fields": self.fields}
