"""The language a page is read in, and what its templates need to speak it.

One rule for every page (docs/architecture.md "Languages"):
1. `?lang=nl|en` in the URL (and the page remembers it in the `gl_lang` cookie: `remember`),
2. else the `gl_lang` cookie,
3. else the browser's Accept-Language, when it names a language Goodloop speaks,
4. else the page's own default (a campaign's `default_language`), else English.

`template_context(language)` is what a template needs: `lang`, Jinja's new-style `gettext` /
`ngettext` (so `{% trans %}`, `_()`, `gettext()` and `ngettext()` all translate, with
`%(name)s` placeholders filled and escaped like Jinja's own i18n extension does), and `money`,
`number`, `date` formatted by Babel for the language. `service.web.pages.render` adds it to
every session page by itself; the public pages (campaigns.giving) add it to their cacheable
renders, whose cache keys carry the language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

import jinja2
from babel.numbers import format_decimal
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from service import i18n

COOKIE = "gl_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
QUERY_PARAMETER = "lang"


def page_language(request: Request, *, default: str | None = None) -> str:
    """The language to answer `request` in (the rule in the module docstring)."""
    chosen = i18n.normalise(request.query_params.get(QUERY_PARAMETER)) or i18n.normalise(
        request.cookies.get(COOKIE)
    )
    if chosen:
        return chosen
    header = request.headers.get("accept-language")
    return i18n.negotiate_or_none(header) or i18n.normalise(default) or i18n.DEFAULT_LANGUAGE


def remember(request: Request, response: Response) -> None:
    """Keep a `?lang=` choice for the visitor's next pages (only when it changes something)."""
    asked = i18n.normalise(request.query_params.get(QUERY_PARAMETER))
    if asked is None or request.cookies.get(COOKIE) == asked:
        return
    secure = request.url.scheme == "https"
    response.set_cookie(COOKIE, asked, max_age=COOKIE_MAX_AGE, path="/", samesite="lax", secure=secure)


def _fill(text: str, values: Mapping[str, Any]) -> str:
    """`text % values`, as Jinja's new-style gettext does even without values (a `{% trans %}`
    block's literal `%` is extracted as `%%`); text that is no format string at all, such as
    `_("100%")`, is shown as written instead of failing the page."""
    try:
        return text % values
    except (ValueError, TypeError, KeyError):
        return text


def gettext_for(language: str) -> Callable[..., str]:
    """Plain gettext for Python code (flash messages, field errors): `_("... %(n)s", n=3)`."""
    catalog = i18n.translations(language)

    def gettext(message: str, /, **values: object) -> str:
        return _fill(catalog.gettext(message), values)

    return gettext


def ngettext_for(language: str) -> Callable[..., str]:
    catalog = i18n.translations(language)

    def ngettext(singular: str, plural: str, n: int, /, **values: object) -> str:
        return _fill(catalog.ngettext(singular, plural, n), {"num": n, **values})

    return ngettext


def template_context(language: str) -> dict[str, Any]:
    """What a template needs to be read in `language` (see the module docstring)."""
    language = i18n.normalise(language) or i18n.DEFAULT_LANGUAGE
    return _CONTEXTS[language]


def _new_style(language: str) -> dict[str, Any]:
    catalog = i18n.translations(language)

    # Like jinja2.ext's new-style callables: the translation is trusted markup when the
    # template autoescapes, and the values put into it are escaped.
    @jinja2.pass_context
    def gettext(context: jinja2.runtime.Context, message: str, /, **values: Any) -> str:
        text: str = catalog.gettext(message)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 (catalog text is ours, written by the team; values are escaped)
        return _fill(text, values)

    @jinja2.pass_context
    def ngettext(
        context: jinja2.runtime.Context, singular: str, plural: str, n: int, /, **values: Any
    ) -> str:
        text: str = catalog.ngettext(singular, plural, n)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 (catalog text is ours, written by the team; values are escaped)
        values.setdefault("num", n)
        return _fill(text, values)

    def money(amount_minor: int, currency: str) -> str:
        return i18n.format_money(int(amount_minor), str(currency), language)

    def number(value: int | float) -> str:
        return str(format_decimal(value, locale=i18n.babel_locale(language)))

    def when(value: date | datetime, format: str = "medium") -> str:
        return i18n.format_date(value, language, format=format)

    return {
        "lang": language,
        "gettext": gettext,
        "ngettext": ngettext,
        "_": gettext,
        "money": money,
        "number": number,
        "date": when,
    }


_CONTEXTS = {language: _new_style(language) for language in i18n.LANGUAGES}


def alternates(request: Request) -> list[tuple[str, str]]:
    """`(language, absolute URL)` for `<link rel="alternate" hreflang>`: this URL in each language."""
    return [
        (language, str(request.url.include_query_params(**{QUERY_PARAMETER: language})))
        for language in i18n.LANGUAGES
    ]
