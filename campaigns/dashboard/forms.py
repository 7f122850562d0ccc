"""Campaign forms as people type them, turned into the API's shapes and back. Pure, no I/O.

Amounts as people type them (to_minor, to_major_text) are shared with the donate form and
live in service/web/forms.py.

People type amounts in major units, in the page's language ("25.50" EUR in English, "25,50"
in Dutch, "5000" JPY); the API takes integer minor units. The conversion goes through Decimal
so no float ever rounds a donation amount. Messages are English Messages (service.web.messages)
that the page translates into its language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from campaigns.campaign.models import Campaign
from service.money import MoneyError, currency, minimum_charge_minor
from service.web.forms import AmountError, to_major_text, to_minor
from service.web.messages import N_

# Form field -> schema field, for the fields whose names differ.
_AMOUNT_FIELDS = {"goal": "goal_minor", "min_amount": "min_amount_minor", "max_amount": "max_amount_minor"}
_TEXT_FIELDS = ("title", "slug", "story", "currency")
_OPTIONAL_TEXT_FIELDS = ("cover_image_url",)
_DATE_FIELDS = ("starts_at", "ends_at")
_SCHEMA_TO_FORM = {
    **{schema: form for form, schema in _AMOUNT_FIELDS.items()},
    "suggested_amounts_minor": "suggested_amounts",
}
_AMOUNT_FORM_FIELDS = frozenset({*_AMOUNT_FIELDS, "suggested_amounts"})
_FORM_TO_SCHEMA = {form: schema for schema, form in _SCHEMA_TO_FORM.items()}
FORM_FIELDS = (
    *_TEXT_FIELDS,
    *_AMOUNT_FIELDS,
    "suggested_amounts",
    *_OPTIONAL_TEXT_FIELDS,
    *_DATE_FIELDS,
    "allowed_embed_origins",
)
_REQUIRED = ("title", "slug", "currency", "goal")
# Between suggested amounts: in English a comma may separate them ("10, 25, 50"); in Dutch the
# comma is the decimal mark ("7,50"), so only a comma followed by a space separates.
_SEPARATORS = {"en": re.compile(r"[\s,;]+"), "nl": re.compile(r"[\s;]+|,\s+")}

_DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


@dataclass
class ParsedCampaign:
    """Values in the API's shape (schema field names) and per-form-field errors."""

    data: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    amounts_read: bool = False

    def with_schema_errors(self, schema_errors: Mapping[str, str]) -> dict[str, str]:
        """Our own messages first, then the schema's, each next to its form field."""
        errors = dict(self.errors)
        for name, message in form_errors(schema_errors).items():
            # Amounts could not be read without a currency; "field required" would mislead.
            if name in _AMOUNT_FORM_FIELDS and not self.amounts_read:
                continue
            errors.setdefault(name, message)
        return errors


def parse_campaign(values: Mapping[str, str], language: str = "en") -> ParsedCampaign:
    """Read every field present in the form, amounts written the `language`'s way; fields
    absent from the form are left out."""
    parsed = ParsedCampaign()
    for name in _TEXT_FIELDS:
        if name in values:
            parsed.data[name] = _lines(values[name]) if name == "story" else values[name].strip()
    for name in _OPTIONAL_TEXT_FIELDS:
        if name in values:
            parsed.data[name] = values[name].strip() or None
    for name in _REQUIRED:
        if name in values and not values[name].strip():
            parsed.errors[name] = N_("this field is required")
    _parse_amounts(values, parsed, language)
    for name in _DATE_FIELDS:
        if name in values:
            try:
                parsed.data[name] = parse_datetime_local(values[name])
            except ValueError:
                parsed.errors[name] = N_("enter a date and time, e.g. 2026-12-01 09:00")
    if "allowed_embed_origins" in values:
        parsed.data["allowed_embed_origins"] = [
            line.strip() for line in values["allowed_embed_origins"].splitlines() if line.strip()
        ]
    return parsed


def _parse_amounts(values: Mapping[str, str], parsed: ParsedCampaign, language: str) -> None:
    try:
        cur = currency(values.get("currency", ""))
    except MoneyError:
        # Without a currency there is no telling what "25.50" means; the currency field says why.
        return
    parsed.amounts_read = True
    for form_name, schema_name in _AMOUNT_FIELDS.items():
        text = values.get(form_name)
        if text is None or form_name in parsed.errors:
            continue
        try:
            parsed.data[schema_name] = to_minor(text, cur, language) if text.strip() else None
        except AmountError as e:
            parsed.errors[form_name] = e.message
    text = values.get("suggested_amounts")
    if text is not None:
        try:
            parsed.data["suggested_amounts_minor"] = [
                to_minor(part, cur, language) for part in _split(text, language)
            ]
        except AmountError as e:
            parsed.errors["suggested_amounts"] = e.message


def _lines(text: str) -> str:
    # Browsers send textarea line breaks as CRLF; the story is stored with plain LF.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _split(text: str, language: str) -> list[str]:
    separators = _SEPARATORS.get(language, _SEPARATORS["en"])
    return [part for part in separators.split(text.strip()) if part]


def parse_datetime_local(text: str) -> datetime | None:
    """A browser's datetime-local value ('2026-12-01T09:00'), read as UTC; empty means none."""
    cleaned = text.strip()
    if not cleaned:
        return None
    parsed = datetime.fromisoformat(cleaned)
    if parsed.tzinfo is not None:
        raise ValueError("datetime-local values carry no time zone")
    return parsed.replace(tzinfo=UTC)


def format_datetime_local(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime(_DATETIME_LOCAL) if value is not None else ""


def form_errors(schema_errors: Mapping[str, str]) -> dict[str, str]:
    """Errors keyed by schema path ('suggested_amounts_minor.2') -> keyed by form field."""
    errors: dict[str, str] = {}
    for path, message in schema_errors.items():
        head, _, index = path.partition(".")
        name = _SCHEMA_TO_FORM.get(head, head)
        if name not in FORM_FIELDS:
            name = "form"
        if name == "allowed_embed_origins" and index.isdigit():
            message = N_("line %(line)s: %(message)s", line=int(index) + 1, message=message)
        errors.setdefault(name, message)
    return errors


def campaign_values(campaign: Campaign, language: str = "en") -> dict[str, str]:
    """A saved campaign as the edit form shows it, amounts written the `language`'s way."""
    cur = campaign.currency
    return {
        "title": campaign.title,
        "slug": campaign.slug,
        "story": campaign.story_markdown,
        "currency": cur,
        "goal": to_major_text(campaign.goal_minor, cur, language),
        "min_amount": to_major_text(campaign.min_amount_minor, cur, language),
        "max_amount": to_major_text(campaign.max_amount_minor, cur, language),
        "suggested_amounts": " ".join(
            to_major_text(a, cur, language) for a in campaign.suggested_amounts_minor
        ),
        "cover_image_url": campaign.cover_image_url or "",
        "starts_at": format_datetime_local(campaign.starts_at),
        "ends_at": format_datetime_local(campaign.ends_at),
        "allowed_embed_origins": "\n".join(campaign.allowed_embed_origins),
    }


def parse_campaign_changes(
    values: Mapping[str, str], campaign: Campaign, language: str = "en"
) -> ParsedCampaign:
    """Only the fields the person changed: a live campaign refuses any write to a locked field,
    even one that repeats the current value, and seconds the form cannot show must survive."""
    current = campaign_values(campaign, language)
    changed = {
        name
        for name in FORM_FIELDS
        if name in values and _lines(values[name]).strip() != _lines(current[name]).strip()
    }
    if "currency" in changed:
        # The same digits mean a different amount in another currency.
        changed |= {name for name in _AMOUNT_FORM_FIELDS if name in values}
    parsed = parse_campaign(values, language)
    keep = {_FORM_TO_SCHEMA.get(name, name) for name in changed}
    parsed.data = {name: value for name, value in parsed.data.items() if name in keep}
    if "min_amount_minor" in parsed.data and parsed.data["min_amount_minor"] is None:
        # The form promises "empty means the lowest Stripe can charge"; a patch cannot send null.
        parsed.data["min_amount_minor"] = minimum_charge_minor(values.get("currency", campaign.currency))
    return parsed
