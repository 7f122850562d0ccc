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

from service.i18n import N_

_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean_text(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError(N_("must not contain control characters"))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(N_("must be valid UTF-8 text")) from e
    return value


def _single_line(value: str) -> str:
    if _ANY_CONTROL.search(_clean_text(value)):
        raise ValueError(N_("must be a single line without tabs or control characters"))
    return value.strip()


def _name(value: str) -> str:
    value = _single_line(value)
    if not value:
        raise ValueError(N_("must not be blank"))
    return value


# One rule, used both to validate and to document (so the OpenAPI document never promises
# less than the server enforces): a dotted host name, an optional port, then path/query.
_URL_REST = r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:[0-9]{1,5})?(/[A-Za-z0-9._~%!$&'()*+,;=:@/?#-]*)?$"
HTTP_URL_PATTERN = r"^https?://" + _URL_REST
HTTPS_URL_PATTERN = r"^https://" + _URL_REST


def _http_url(value: str) -> str:
    value = _single_line(value)
    if not re.fullmatch(HTTP_URL_PATTERN, value) or not urlsplit(value).hostname:
        raise ValueError(N_("must be a web address like https://example.org/page"))
    return value


def _https_url(value: str) -> str:
    value = _single_line(value)
    if not re.fullmatch(HTTPS_URL_PATTERN, value) or not urlsplit(value).hostname:
        raise ValueError(N_("must be an https address like https://example.org/image.jpg"))
    return value


def _country(value: str) -> str:
    code = value.strip().upper()
    if code not in _COUNTRIES:
        raise ValueError(N_("must be an ISO 3166 two-letter country code"))
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
    AfterValidator(_name),
    documented(pattern=r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"),
]
HttpUrl = Annotated[
    str,
    StringConstraints(max_length=500),
    AfterValidator(_http_url),
    documented(format="uri", pattern=HTTP_URL_PATTERN),
]
HttpsUrl = Annotated[
    str,
    StringConstraints(max_length=1000),
    AfterValidator(_https_url),
    documented(format="uri", pattern=HTTPS_URL_PATTERN),
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


def country_name(code: str) -> str:
    """'GB' -> 'United Kingdom' (English, from Babel); an unknown code is shown as it is."""
    return str(_ENGLISH.territories.get(code.upper(), code))


_ENGLISH = Locale("en")
