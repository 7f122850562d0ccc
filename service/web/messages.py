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

from service.i18n import N_, Message, translate

__all__ = ["EXTRACTION_KEYWORDS", "N_", "Message", "translate", "translate_all"]

# Babel keyword spec (babel.messages.extract.DEFAULT_KEYWORDS style): name -> argument positions.
EXTRACTION_KEYWORDS: dict[str, Any] = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "N_": None,
}


def translate_all(messages: Mapping[str, Any], language: str | None) -> dict[str, Any]:
    """Every str value of `messages` (field -> message) translated; other values kept."""
    return {k: translate(v, language) if isinstance(v, str) else v for k, v in messages.items()}
