"""The HTTP side shared by the API and the pages: the streamed CSV response and page filters."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TypeVar

import pydantic
from starlette.requests import Request
from starlette.responses import StreamingResponse

from service.errors import DomainError, ValidationFailed
from service.i18n import translate
from service.web.api import validate
from service.web.language import QUERY_PARAMETER, page_language
from service.web.messages import N_

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
    """A page's filters: a bad one is a 400 page saying which parameter and why, in the page's
    language. `?lang=` chooses the page's language (service.web.language), so it is no filter."""
    keys = [key for key, _ in request.query_params.multi_items()]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    language = page_language(request)
    if repeated:
        # A repeated parameter would silently mean "the last one"; say so instead.
        raise InvalidFilter(_reasons(dict.fromkeys(repeated, N_("give this parameter once")), language))
    filters = {key: value for key, value in request.query_params.items() if key != QUERY_PARAMETER}
    try:
        return validate(model, filters)
    except ValidationFailed as e:
        raise InvalidFilter(_reasons(e.fields, language)) from e


def _reasons(fields: Mapping[str, str], language: str) -> str:
    return "; ".join(f"{name}: {translate(message, language)}" for name, message in fields.items())
