"""What people read when their input is refused: whole sentences in their language, never a
validator's raw text.

The one place both kinds of message become human. `field_message` turns pydantic's error
items (what `service.web.api.field_errors` collects, for the API and for every page that
validates through it) into sentences by error type, such as "Please enter at least 10
characters." instead of "String should have at least 10 characters". They are Messages
(service.web.messages.N_): English for the API, translated for a page ("Vul minstens 10 tekens
in."). `sentence` finishes the domain's own messages ("must be a web address like ...") for
pages: translated into the page's language, a capital letter and a full stop. Pages apply it
to every message next to a field (`service.web.pages.templates`, in the context's `lang`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic_core import ErrorDetails

from service.web.messages import N_, Message, translate

_END = (".", "!", "?", "…", ")")


def sentence(text: str, language: str | None = None) -> str:
    """'must not be blank' -> 'Must not be blank.' (in `language`: 'Mag niet leeg zijn.'); a
    sentence already is left as it is."""
    text = translate(text, language).strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith(_END) else text + "."


def sentences(errors: Mapping[str, Any], language: str | None = None) -> dict[str, Any]:
    return {
        key: sentence(value, language) if isinstance(value, str) else value for key, value in errors.items()
    }


# Counts are never 1 where these are used except max_length (one character, one item), so the
# plural is two msgids instead of ngettext (a Message carries one msgid).
def _at_least_characters(n: int) -> str:
    if n <= 1:
        return N_("Please fill this in.")
    return N_("Please enter at least %(count)s characters.", count=n)


def _at_most_characters(n: int) -> str:
    if n == 1:
        return N_("Please keep this to 1 character.")
    return N_("Please keep this to %(count)s characters or fewer.", count=n)


def _at_least_items(n: int) -> str:
    if n == 1:
        return N_("Please give at least one item.")
    return N_("Please give at least %(count)s items.", count=n)


def _at_most_items(n: int) -> str:
    if n == 1:
        return N_("Please give at most one item.")
    return N_("Please give at most %(count)s items.", count=n)


_DATE_TIME = "2026-12-24T18:00:00Z"


_BY_TYPE: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "missing": lambda ctx: N_("Please fill this in."),
    "string_too_short": lambda ctx: _at_least_characters(ctx.get("min_length", 1)),
    "string_too_long": lambda ctx: _at_most_characters(ctx["max_length"]),
    "string_type": lambda ctx: N_("Please enter text here."),
    "string_pattern_mismatch": lambda ctx: N_("Please use only the characters this field allows."),
    "string_unicode": lambda ctx: N_("Please enter valid text."),
    "int_parsing": lambda ctx: N_("Please enter a whole number."),
    "int_type": lambda ctx: N_("Please enter a whole number."),
    "int_from_float": lambda ctx: N_("Please enter a whole number, without decimals."),
    "float_parsing": lambda ctx: N_("Please enter a number."),
    "float_type": lambda ctx: N_("Please enter a number."),
    "decimal_parsing": lambda ctx: N_("Please enter a number."),
    "greater_than": lambda ctx: N_("Please enter a number greater than %(limit)s.", limit=ctx["gt"]),
    "greater_than_equal": lambda ctx: N_("Please enter %(limit)s or more.", limit=ctx["ge"]),
    "less_than": lambda ctx: N_("Please enter a number less than %(limit)s.", limit=ctx["lt"]),
    "less_than_equal": lambda ctx: N_("Please enter %(limit)s or less.", limit=ctx["le"]),
    "too_short": lambda ctx: _at_least_items(ctx.get("min_length", 1)),
    "too_long": lambda ctx: _at_most_items(ctx.get("max_length", 1)),
    "bool_parsing": lambda ctx: N_("Please choose yes or no."),
    "bool_type": lambda ctx: N_("Please choose yes or no."),
    "literal_error": lambda ctx: N_("Please choose one of: %(options)s.", options=str(ctx["expected"])),
    "enum": lambda ctx: N_("Please choose one of: %(options)s.", options=str(ctx["expected"])),
    "uuid_parsing": lambda ctx: N_("This is not a valid id."),
    "uuid_type": lambda ctx: N_("This is not a valid id."),
    "datetime_parsing": lambda ctx: N_("Please enter a date and time, like %(example)s.", example=_DATE_TIME),
    "datetime_from_date_parsing": lambda ctx: N_(
        "Please enter a date and time, like %(example)s.", example=_DATE_TIME
    ),
    "datetime_type": lambda ctx: N_("Please enter a date and time, like %(example)s.", example=_DATE_TIME),
    "timezone_aware": lambda ctx: N_("Please include a time zone, like %(example)s.", example=_DATE_TIME),
    "list_type": lambda ctx: N_("Please give a list."),
    "dict_type": lambda ctx: N_("Please give an object."),
    "model_type": lambda ctx: N_("Please give an object."),
    "extra_forbidden": lambda ctx: N_("This field is not expected here."),
    "url_parsing": lambda ctx: N_("Enter a web address like https://example.org/page."),
    "url_scheme": lambda ctx: N_("Enter a web address like https://example.org/page."),
}
EMAIL_MESSAGE = N_("Enter an email address like name@example.org.")


def field_message(item: ErrorDetails, language: str | None = None) -> str:
    """One pydantic error item as a sentence a person can act on: a Message (English, for the
    API) or, given a `language`, the text in that language."""
    english = _field_message(item)
    return english if language is None else translate(english, language)


def _field_message(item: ErrorDetails) -> str:
    kind = item["type"]
    ctx: Mapping[str, Any] = item.get("ctx") or {}
    message = str(item["msg"])
    if kind == "value_error":
        raised = ctx.get("error")
        if isinstance(raised, ValueError) and raised.args and isinstance(raised.args[0], Message):
            # Our validators' own words, marked with N_ (service.validation): kept with their
            # msgid, so a page translates them.
            return raised.args[0]
        text = message.removeprefix("Value error, ")
        # pydantic's own email check ("value is not a valid email address: ...").
        # Our validators' own words (service.validation) stay as they are for API clients;
        # pages finish them with `sentence`.
        return EMAIL_MESSAGE if "email address" in text else text
    make = _BY_TYPE.get(kind)
    if make is None:
        return sentence(message)
    try:
        return make(ctx)
    except KeyError:
        return sentence(message)
