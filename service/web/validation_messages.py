"""What people read when their input is refused: whole sentences, never a validator's raw text.

The one place both kinds of message become human. `field_message` turns pydantic's error
items (what `service.web.api.field_errors` collects, for the API and for every page that
validates through it) into sentences by error type, such as "Please enter at least 10
characters." instead of "String should have at least 10 characters". `sentence` finishes the
domain's own messages ("must be a web address like ...") for pages: a capital letter and a full
stop. Pages apply it to every message next to a field (`service.web.pages.templates`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic_core import ErrorDetails

_END = (".", "!", "?", "…", ")")


def sentence(text: str) -> str:
    """'must not be blank' -> 'Must not be blank.'; a sentence already is left as it is."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith(_END) else text + "."


def sentences(errors: Mapping[str, Any]) -> dict[str, Any]:
    return {key: sentence(value) if isinstance(value, str) else value for key, value in errors.items()}


def _characters(n: int) -> str:
    return f"{n} character" if n == 1 else f"{n} characters"


def _items(n: int) -> str:
    return f"{n} item" if n == 1 else f"{n} items"


_BY_TYPE: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "missing": lambda ctx: "Please fill this in.",
    "string_too_short": lambda ctx: (
        "Please fill this in."
        if ctx.get("min_length", 1) <= 1
        else f"Please enter at least {_characters(ctx['min_length'])}."
    ),
    "string_too_long": lambda ctx: f"Please keep this to {_characters(ctx['max_length'])} or fewer.",
    "string_type": lambda ctx: "Please enter text here.",
    "string_pattern_mismatch": lambda ctx: "Please use only the characters this field allows.",
    "string_unicode": lambda ctx: "Please enter valid text.",
    "int_parsing": lambda ctx: "Please enter a whole number.",
    "int_type": lambda ctx: "Please enter a whole number.",
    "int_from_float": lambda ctx: "Please enter a whole number, without decimals.",
    "float_parsing": lambda ctx: "Please enter a number.",
    "float_type": lambda ctx: "Please enter a number.",
    "decimal_parsing": lambda ctx: "Please enter a number.",
    "greater_than": lambda ctx: f"Please enter a number greater than {ctx['gt']}.",
    "greater_than_equal": lambda ctx: f"Please enter {ctx['ge']} or more.",
    "less_than": lambda ctx: f"Please enter a number less than {ctx['lt']}.",
    "less_than_equal": lambda ctx: f"Please enter {ctx['le']} or less.",
    "too_short": lambda ctx: f"Please give at least {_items(ctx.get('min_length', 1))}.",
    "too_long": lambda ctx: f"Please give at most {_items(ctx.get('max_length', 1))}.",
    "bool_parsing": lambda ctx: "Please choose yes or no.",
    "bool_type": lambda ctx: "Please choose yes or no.",
    "literal_error": lambda ctx: f"Please choose one of: {ctx.get('expected', 'the options shown')}.",
    "enum": lambda ctx: f"Please choose one of: {ctx.get('expected', 'the options shown')}.",
    "uuid_parsing": lambda ctx: "This is not a valid id.",
    "uuid_type": lambda ctx: "This is not a valid id.",
    "datetime_parsing": lambda ctx: "Please enter a date and time, like 2026-12-24T18:00:00Z.",
    "datetime_from_date_parsing": lambda ctx: "Please enter a date and time, like 2026-12-24T18:00:00Z.",
    "datetime_type": lambda ctx: "Please enter a date and time, like 2026-12-24T18:00:00Z.",
    "timezone_aware": lambda ctx: "Please include a time zone, like 2026-12-24T18:00:00Z.",
    "list_type": lambda ctx: "Please give a list.",
    "dict_type": lambda ctx: "Please give an object.",
    "model_type": lambda ctx: "Please give an object.",
    "extra_forbidden": lambda ctx: "This field is not expected here.",
    "url_parsing": lambda ctx: "Enter a web address like https://example.org/page.",
    "url_scheme": lambda ctx: "Enter a web address like https://example.org/page.",
}
EMAIL_MESSAGE = "Enter an email address like name@example.org."


def field_message(item: ErrorDetails) -> str:
    """One pydantic error item as a sentence a person can act on."""
    kind = item["type"]
    ctx: Mapping[str, Any] = item.get("ctx") or {}
    message = str(item["msg"])
    if kind == "value_error":
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
