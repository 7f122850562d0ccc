"""The language of the donor's public pages, and what their caches and headers say about it.

The rule is service.web.language's (`?lang=` > `gl_lang` cookie > Accept-Language > the
campaign's `default_language` > en). The public pages are cached per language, but the
campaign's default is only known once the campaign is read, so a cache key carries what the
*request* asks for (`requested`: nl, en, or None for "the campaign's default") and the render
resolves None with the campaign (`resolved`). Both the normal path and the fast path
(fast_pages.py) compute `requested` here, from the same inputs: the normal path from
Starlette's parsed request, the fast path from the raw query string and headers, read the way
Starlette reads them (the last `lang` in the query, every Cookie header merged, the first
Accept-Language header).

A page whose language did not come from its URL varies by the Cookie and Accept-Language
headers: `Vary` says so, so a shared cache never serves one browser's Dutch to another's
English. A page asked for with `?lang=` varies by its URL alone.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from urllib.parse import parse_qsl

from babel import Locale
from babel.numbers import format_decimal
from starlette.requests import Request, cookie_parser
from starlette.responses import Response

from service import i18n
from service.web import compression
from service.web.language import COOKIE, QUERY_PARAMETER, remember

VARY = (b"vary", b"Accept-Language, Cookie")

_QUERY_MARKER = QUERY_PARAMETER.encode("latin-1")
_COOKIE_MARKER = COOKIE.encode("latin-1")


@functools.lru_cache(maxsize=512)
def negotiated(accept_language: str | None) -> str | None:
    """i18n.negotiate_or_none, remembered: a viral page sees the same few headers again and again."""
    return i18n.negotiate_or_none(accept_language)


def requested(request: Request) -> str | None:
    """nl or en when the request asks for a language (URL, cookie, browser); None otherwise."""
    return (
        i18n.normalise(request.query_params.get(QUERY_PARAMETER))
        or i18n.normalise(request.cookies.get(COOKIE))
        or negotiated(request.headers.get("accept-language"))
    )


def asked_in_url(request: Request) -> bool:
    return i18n.normalise(request.query_params.get(QUERY_PARAMETER)) is not None


def resolved(requested_language: str | None, default_language: str | None) -> str:
    """The page's language: what the request asked for, else the campaign's default, else en."""
    return requested_language or i18n.normalise(default_language) or i18n.DEFAULT_LANGUAGE


def query_language(query_string: bytes) -> str | None:
    """`request.query_params.get("lang")`, normalised, from the raw query string."""
    if _QUERY_MARKER not in query_string:
        return None
    found = None
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if name == QUERY_PARAMETER:
            found = value  # the last one wins, as in Starlette's QueryParams
    return i18n.normalise(found)


def cookie_value(cookie_headers: list[bytes]) -> str | None:
    """`request.cookies.get("gl_lang")` (as sent), from the raw Cookie headers."""
    if not any(_COOKIE_MARKER in header for header in cookie_headers):
        return None
    parsed: dict[str, str] = {}
    for header in cookie_headers:
        parsed.update(cookie_parser(header.decode("latin-1")))
    return parsed.get(COOKIE)


def remembers(asked_in_url: str | None, cookie: str | None) -> bool:
    """Whether service.web.language.remember sets the cookie: the URL asks for another language."""
    return asked_in_url is not None and cookie != asked_in_url


_VARY_BY_ENCODING = {
    True: [(b"vary", compression.VARY.encode("latin-1"))],
    False: [(b"vary", f"{compression.VARY}, Accept-Language, Cookie".encode("latin-1"))],
}


def vary_headers(*, in_url: bool, compressible: bool) -> list[tuple[bytes, bytes]]:
    """A cached page's Vary, one header: by language unless the URL chose it, and by
    Accept-Encoding when the page is sent gzipped to whoever takes it (service/web/
    compression.py), whichever variant this response is."""
    if compressible:
        return _VARY_BY_ENCODING[in_url]
    return [] if in_url else [VARY]


def alternate_links(url: str) -> list[tuple[str, str]]:
    """`<link rel="alternate" hreflang>` targets for a public page's absolute URL: the page in
    each language (`?lang=`), and the URL itself as x-default (the reader's own language)."""
    separator = "&" if "?" in url else "?"
    links = [(language, f"{url}{separator}{QUERY_PARAMETER}={language}") for language in i18n.LANGUAGES]
    return [*links, ("x-default", url)]


def percent_text(basis_points: int, language: str) -> str:
    """1.5% / 1,5%: a rate in basis points, written the language's way."""
    number = format_decimal(Decimal(basis_points) / 100, locale=i18n.babel_locale(language))
    return f"{number}%"


def page_language(request: Request, default_language: str | None) -> str:
    """service.web.language.page_language, through `requested` (the pages' one reading)."""
    return resolved(requested(request), default_language)


def localise(request: Request, response: Response, language: str) -> Response:
    """What every public page not served from the page cache says about its language:
    Content-Language, Vary (unless the URL chose), and a `?lang=` choice remembered, which
    makes the response this visitor's alone."""
    response.headers["Content-Language"] = language
    if not asked_in_url(request):
        response.headers.append("Vary", "Accept-Language, Cookie")
    asked = i18n.normalise(request.query_params.get(QUERY_PARAMETER))
    if remembers(asked, request.cookies.get(COOKIE)):
        response.headers["Cache-Control"] = "private, no-store"
    remember(request, response)
    return response


def country_name(code: str, language: str) -> str:
    """ "Ierland" / "Ireland" for "IE": Babel's name of the country in `language`."""
    names = Locale.parse(i18n.babel_locale(language)).territories
    return str(names.get(code.upper(), code))
