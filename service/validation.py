"""Input types shared by every request shape: text that the database will accept, emails, URLs.

PostgreSQL refuses NUL bytes and lone surrogates in text; letting them through would turn bad
input into a 500, so they are refused here as a 422.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from babel import Locale
from pydantic import AfterValidator, Field, JsonValue, StringConstraints
from pydantic import EmailStr as _EmailStr
from pydantic.config import JsonDict

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean_text(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError("must be valid UTF-8 text") from e
    return value


def _single_line(value: str) -> str:
    value = _clean_text(value).strip()
    if "\n" in value or "\r" in value:
        raise ValueError("must be a single line")
    return value


def _http_url(value: str) -> str:
    value = _single_line(value)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL")
    return value


def _https_url(value: str) -> str:
    value = _http_url(value)
    if urlsplit(value).scheme != "https":
        raise ValueError("must be an https URL")
    return value


def _country(value: str) -> str:
    code = value.strip().upper()
    if code not in _COUNTRIES:
        raise ValueError("must be an ISO 3166 two-letter country code")
    return code


def _email(value: str) -> str:
    return _clean_text(value).strip().lower()


# Babel lists pseudo-regions too (ZZ unknown, EU, UN...); they are not countries.
_NOT_COUNTRIES = frozenset({"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB"})
_COUNTRIES = frozenset(
    code
    for code in map(str, Locale("en").territories)
    if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
)


def documented(**schema: JsonValue) -> Any:
    """Extra JSON Schema for the OpenAPI document (and the fuzzer), without changing validation.

    The validators above give friendlier messages than a failed regex would, so the patterns
    here only describe the rule for clients.
    """
    extra: JsonDict = dict(schema)
    return Field(json_schema_extra=extra)


_TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
_LINE_PATTERN = r"^[^\x00-\x1f\x7f]*$"

Text = Annotated[str, AfterValidator(_clean_text), documented(pattern=_TEXT_PATTERN)]
Line = Annotated[str, AfterValidator(_single_line), documented(pattern=_LINE_PATTERN)]
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    AfterValidator(_single_line),
    documented(pattern=r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"),
]
HttpUrl = Annotated[
    str,
    StringConstraints(max_length=500),
    AfterValidator(_http_url),
    documented(format="uri", pattern=r"^https?://[a-z0-9-]+(\.[a-z0-9-]+)+(/[A-Za-z0-9._~/-]*)?$"),
]
HttpsUrl = Annotated[
    str,
    StringConstraints(max_length=1000),
    AfterValidator(_https_url),
    documented(format="uri", pattern=r"^https://[a-z0-9-]+(\.[a-z0-9-]+)+(/[A-Za-z0-9._~/-]*)?$"),
]
Email = Annotated[_EmailStr, StringConstraints(max_length=320), AfterValidator(_email)]
Password = Annotated[
    str,
    StringConstraints(min_length=10, max_length=1024),
    AfterValidator(_clean_text),
    documented(pattern=_TEXT_PATTERN),
]
Reason = Annotated[
    str,
    StringConstraints(min_length=3, max_length=2000),
    AfterValidator(_clean_text),
    documented(pattern=_TEXT_PATTERN),
]
Country = Annotated[
    str,
    StringConstraints(min_length=2, max_length=2),
    AfterValidator(_country),
    documented(enum=sorted(_COUNTRIES)),
]
# Large enough for any real campaign, small enough never to overflow a BIGINT or a float.
MAX_MINOR = 10**13
MinorAmount = Annotated[int, Field(strict=True, gt=0, le=MAX_MINOR)]
