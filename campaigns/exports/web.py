"""The HTTP side shared by the API and the pages: the streamed CSV response and page filters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TypeVar

import pydantic
from starlette.requests import Request
from starlette.responses import StreamingResponse

from service.errors import DomainError, ValidationFailed
from service.web.api import parse_query

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


class InvalidFilter(DomainError):
    code = "invalid_filter"
    status_code = 400


def csv_response(chunks: AsyncIterator[bytes], *, filename: str) -> StreamingResponse:
    return StreamingResponse(
        chunks,
        media_type=CSV_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            # Donor lists must not linger in shared or browser caches.
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def parse_page_query(request: Request, model: type[ModelT]) -> ModelT:
    """A page's filters: a bad one is a 400 page saying which parameter and why."""
    try:
        return parse_query(request, model)
    except ValidationFailed as e:
        raise InvalidFilter(e.detail) from e
