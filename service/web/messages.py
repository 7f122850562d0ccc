"""Strings written in one place and translated in another: how a domain message reaches a page in Dutch.

Who translates what (issue #19, docs/architecture.md "Languages"):

- Templates translate themselves: `{% trans %}...{% endtrans %}`, `_("...")`, `gettext("...")`,
  `ngettext("one", "%(num)s more", n)` (service.web.language.template_context).
- Page and route modules translate at the edge, in the reader's language:
  `_ = gettext_for(lang)` then `_("Saved.")` or `_("Raised %(amount)s", amount=text)`
  (service.web.language.gettext_for / ngettext_for).
- Domain modules (campaigns/*, service/*) do not know the reader's language, and the API keeps
  speaking English. They MARK their people-facing text with `N_()` from this module, and the
  page that shows it translates it with `translate(message, lang)`:

      # campaigns/campaign/cover.py
      raise ValidationFailed({"cover": N_("the image is %(w)s x %(h)s pixels", w=width, h=height)})

      # a page module
      errors = {field: translate(text, lang) for field, text in e.fields.items()}

  `N_(msgid, **values)` returns a `Message`: a `str` whose value is the English text with the
  values filled in (what the API, the logs and every existing caller see, unchanged), which
  also remembers its msgid and values, so `translate` can look up the msgid in the catalog and
  fill the same values into the Dutch text. Values that are Messages themselves are translated
  too (plain str values, such as a URL or a name, are not). A plain `str` given to `translate`
  is looked up as it is (right for constant text).
  String operations (`+`, `.strip()`, f-strings) return plain `str` and lose the msgid:
  translate first, then finish (`sentence(translate(m, lang))`).
- A page's `errors` (field -> message) in a render context are translated into the page's
  `lang` and finished as sentences by service.web.pages itself: a page only passes
  `ValidationFailed.fields` (Messages or constant English) through.

Extraction keywords (Babel; pyproject/babel.cfg and `goodloop i18n extract`, and
tests/test_translations.py, use exactly these): `_`, `gettext`, `ngettext` (singular and
plural: arguments 1 and 2), `N_`. Placeholders are `%(name)s` (never `{name}` or positional
`%s`), the same names in the msgid and its translation; `ngettext` also has `%(num)s`.
Every msgid needs an `nl` entry in one of service/locale/nl/LC_MESSAGES/*.po.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service import i18n

# Babel keyword spec (babel.messages.extract.DEFAULT_KEYWORDS style): name -> argument positions.
EXTRACTION_KEYWORDS: dict[str, Any] = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "N_": None,
}


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
    lang = i18n.normalise(language) or i18n.DEFAULT_LANGUAGE
    catalog = i18n.translations(lang)
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


def translate_all(messages: Mapping[str, Any], language: str | None) -> dict[str, Any]:
    """Every str value of `messages` (field -> message) translated; other values kept."""
    return {k: translate(v, language) if isinstance(v, str) else v for k, v in messages.items()}
