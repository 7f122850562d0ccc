"""Languages people read Goodloop in: Dutch and English, negotiated, translated, formatted.

- `negotiate(accept_language)` picks `nl` or `en` from an Accept-Language header (q-values
  honoured, `nl-BE` counts as `nl`), `DEFAULT_LANGUAGE` when nothing matches;
  `normalise(value)` maps a stored or typed value (`"NL"`, `"en-GB"`) to one of LANGUAGES or None.
- `translations(language)` is gettext for that language: every catalog
  `service/locale/<language>/LC_MESSAGES/*.po` merged (each part of the code keeps its own
  catalog, so nobody edits another's), compiled in memory with Babel at first use and cached
  per process (no compiled .mo in git). English is the source language: `en` translates nothing.
- `format_money(minor, currency, language)` and `format_date(d, language)` write amounts and
  dates as a reader of that language expects (`€ 1.250,00` / `€1,250.00`, `4 december 2026` /
  `December 4, 2026`).
- `N_`, `Message` and `translate`: text written in a domain module and translated at the edge
  (documented in service/web/messages.py, which pages import; they live here, below
  service.validation and service.web, so every service module can mark its messages).
"""

from __future__ import annotations

import functools
import gettext
import io
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from babel.dates import format_date as babel_format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from service.money import format_money as money_text

LANGUAGES: tuple[str, ...] = ("nl", "en")
DEFAULT_LANGUAGE = "en"
SOURCE_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).parent / "locale"
_BABEL_LOCALES = {"nl": "nl_NL", "en": "en_US"}


def normalise(value: str | None) -> str | None:
    """One of LANGUAGES for `value` (`"nl"`, `"NL"`, `"nl-BE"`, `"en_GB"`), or None."""
    if not value:
        return None
    primary = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else None


def negotiate(accept_language: str | None) -> str:
    """The language to answer in, from an Accept-Language header (RFC 9110 section 12.5.4)."""
    return negotiate_or_none(accept_language) or DEFAULT_LANGUAGE


def negotiate_or_none(accept_language: str | None) -> str | None:
    """The best of LANGUAGES the header asks for, or None when it asks for none of them."""
    best: tuple[float, int] | None = None
    chosen: str | None = None
    for position, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        language = normalise(tag)
        if language is None:
            continue
        quality = _quality(params)
        if quality <= 0:
            continue
        rank = (quality, -position)
        if best is None or rank > best:
            best, chosen = rank, language
    return chosen


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """gettext for `language`: every .po catalog of that language merged; cached per process."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; one of {LANGUAGES}")
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    merged = Translations()
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    for po in sorted(folder.glob("*.po")):
        merged.merge(_compiled(po, language))
    return merged


class CatalogError(RuntimeError):
    """A translation catalog that does not parse: the app refuses to start with it."""


def check_catalogs(language: str | None = None, *, root: Path = LOCALE_DIR) -> int:
    """Parse and compile every catalog (of `language`, or of every language) now, so a broken
    .po fails `goodloop serve` and the app factory loudly instead of a page at first use.
    Returns how many catalogs were checked; raises CatalogError naming the file."""
    checked = 0
    for lang in (language,) if language else LANGUAGES:
        for po in sorted((root / lang / "LC_MESSAGES").glob("*.po")):
            try:
                _compiled(po, lang, strict=True)
            except Exception as e:
                raise CatalogError(f"translation catalog {po} does not parse: {e}") from e
            checked += 1
    return checked


@functools.cache
def ensure_catalogs() -> int:
    """check_catalogs once per process (the app factory runs per test; the files do not change)."""
    return check_catalogs()


def _compiled(po: Path, language: str, *, strict: bool = False) -> Translations:
    with po.open("rb") as f:
        # abort_invalid: a syntax error is an error, not a silently skipped entry.
        catalog = read_po(f, locale=_BABEL_LOCALES[language], domain=po.stem, abort_invalid=strict)
    buffer = io.BytesIO()
    # Fuzzy entries are drafts: like msgfmt, leave them out.
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain="messages")


def babel_locale(language: str) -> str:
    return _BABEL_LOCALES.get(language, _BABEL_LOCALES[DEFAULT_LANGUAGE])


def format_money(amount_minor: int, currency: str, language: str) -> str:
    return money_text(amount_minor, currency, locale=babel_locale(language))


def format_date(value: date | datetime, language: str, *, format: str = "long") -> str:
    return babel_format_date(value, format=format, locale=babel_locale(language))


class Message(str):
    """English text that remembers its msgid and values, for translation at the edge."""

    msgid: str
    values: Mapping[str, object]

    def __new__(cls, msgid: str, values: Mapping[str, object] | None = None) -> Message:
        values = dict(values or {})
        english = msgid % values if values else msgid
        made = super().__new__(cls, english)
        made.msgid = msgid
        made.values = values
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickling (exceptions cross threads and processes) keeps the msgid and values.
        return (Message, (self.msgid, dict(self.values)))


def N_(message: str, /, **values: object) -> str:
    """Mark `message` for extraction; English now, translated later by `translate`."""
    return Message(message, values)


def translate(message: str, language: str | None, /) -> str:
    """`message` (a Message from N_, or constant English text) in `language` (English if unknown)."""
    lang = normalise(language) or DEFAULT_LANGUAGE
    catalog = translations(lang)
    if isinstance(message, Message):
        text = catalog.gettext(message.msgid)
        if not message.values:
            return text
        values = {k: translate(v, lang) if isinstance(v, Message) else v for k, v in message.values.items()}
        try:
            return text % values
        except (KeyError, ValueError, TypeError):
            # A translation whose placeholders do not match (tests/test_translations.py fails
            # on it) must not turn a refused form into a 500: fall back to English.
            return str(message)
    return catalog.gettext(message) if message else message
