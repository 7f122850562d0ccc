"""The review queue's filters as a reviewer types them (query parameters), read and written back.

Pure, no I/O. Each bad value gets a message next to its field and is left out of the query,
so a typo narrows nothing instead of failing the page.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from campaigns.console.review_repository import AmountBound, QueueFilters
from campaigns.matching.models import MatchStatus

ALL_STATUSES = "all"
FIELDS = (
    "status",
    "program_id",
    "campaign_id",
    "min_weight",
    "signal",
    "min_amount",
    "max_amount",
    "older_than_days",
)
_AMOUNT = re.compile(r"^[0-9]{1,12}(?:\.[0-9]{1,6})?$")
_SIGNAL = re.compile(r"^[a-z_]{1,40}$")
MAX_DAYS = 3650
MAX_WEIGHT = 100_000


@dataclass
class ParsedFilters:
    filters: QueueFilters
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)


def _uuid(values: Mapping[str, str], name: str, errors: dict[str, str]) -> uuid.UUID | None:
    raw = values.get(name, "")
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        errors[name] = "pick one from the list"
        return None


def _whole(values: Mapping[str, str], name: str, errors: dict[str, str], *, most: int) -> int | None:
    raw = values.get(name, "")
    if not raw:
        return None
    if not raw.isdigit() or int(raw) > most:
        errors[name] = f"enter a whole number from 0 to {most}"
        return None
    return int(raw)


def _amount(values: Mapping[str, str], name: str, errors: dict[str, str]) -> AmountBound | None:
    raw = values.get(name, "")
    if not raw:
        return None
    try:
        if not _AMOUNT.match(raw):
            raise InvalidOperation
        return AmountBound(major=Decimal(raw))
    except InvalidOperation:
        errors[name] = "enter an amount such as 25 or 25.50"
        return None


def _status(values: Mapping[str, str], errors: dict[str, str]) -> MatchStatus | None:
    raw = values.get("status", "")
    if raw == ALL_STATUSES:
        return None
    if not raw:
        return MatchStatus.HELD_FOR_REVIEW
    try:
        return MatchStatus(raw)
    except ValueError:
        errors["status"] = "pick one from the list"
        return MatchStatus.HELD_FOR_REVIEW


def parse_filters(params: Mapping[str, str]) -> ParsedFilters:
    values = {name: params.get(name, "").strip() for name in FIELDS}
    errors: dict[str, str] = {}
    signal = values["signal"] or None
    if signal is not None and not _SIGNAL.match(signal):
        errors["signal"] = "pick one from the list"
        signal = None
    filters = QueueFilters(
        status=_status(values, errors),
        program_id=_uuid(values, "program_id", errors),
        campaign_id=_uuid(values, "campaign_id", errors),
        min_weight=_whole(values, "min_weight", errors, most=MAX_WEIGHT),
        signal=signal,
        min_amount=_amount(values, "min_amount", errors),
        max_amount=_amount(values, "max_amount", errors),
        older_than_days=_whole(values, "older_than_days", errors, most=MAX_DAYS),
    )
    if filters.min_amount and filters.max_amount and filters.min_amount.major > filters.max_amount.major:
        errors["max_amount"] = "must not be below the smallest amount"
    if not values["status"]:
        values["status"] = MatchStatus.HELD_FOR_REVIEW.value
    return ParsedFilters(filters=filters, values=values, errors=errors)


def query_string(values: Mapping[str, str], **extra: str) -> str:
    """The filters (and e.g. a cursor) as a query string, empty values left out."""
    pairs = [(name, values[name]) for name in FIELDS if values.get(name)]
    pairs += [(name, value) for name, value in extra.items() if value]
    return urlencode(pairs)


def export_query(filters: QueueFilters, *, now: datetime) -> str:
    """The filters the CSV export understands (status, program, campaign, age as `until`)."""
    pairs: list[tuple[str, str]] = []
    if filters.status is not None:
        pairs.append(("status", filters.status.value))
    if filters.program_id is not None:
        pairs.append(("program_id", str(filters.program_id)))
    if filters.campaign_id is not None:
        pairs.append(("campaign_id", str(filters.campaign_id)))
    if filters.older_than_days is not None:
        until = now - timedelta(days=filters.older_than_days)
        pairs.append(("until", until.replace(microsecond=0).isoformat()))
    return urlencode(pairs)
