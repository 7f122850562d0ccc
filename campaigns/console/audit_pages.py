"""The audit log page: who did what, when, before and after, filterable and paged, newest first.

The same query string drives the CSV export (/admin/exports/audit-log.csv), so
`audit_filter_from_query` is the one parser of it.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from campaigns.console.auth import admin_page
from service import audit
from service.auth.models import Admin, AdminRole
from service.pagination import CursorToken, next_cursor
from service.web.context import database
from service.web.pages import render

PAGE_SIZE = 50
FILTER_FIELDS = ("action", "subject_type", "subject_id", "actor", "nonprofit", "since", "until")
_WORD = re.compile(r"^[A-Za-z0-9_.:@+-]{1,320}$")
_CURSOR = re.compile(r"^[A-Za-z0-9_-]{1,200}$")


@dataclass(frozen=True)
class AuditQuery:
    """A parsed audit-log query string: the filter, the page cursor and a message per bad field."""

    where: audit.AuditFilter
    cursor: CursorToken | None
    values: dict[str, str]
    errors: dict[str, str]


def audit_filter_from_query(params: Mapping[str, str]) -> AuditQuery:
    """Parse ?action=&subject_type=&subject_id=&actor=&nonprofit=&since=&until=&cursor=.

    Dates are UTC days, both ends included. A bad field is reported and ignored, so the page
    still lists something and says what it did not understand.
    """
    values = {name: params.get(name, "").strip() for name in FILTER_FIELDS}
    errors: dict[str, str] = {}
    text = {
        name: _word(values[name], name, errors) for name in ("action", "subject_type", "subject_id", "actor")
    }
    nonprofit_id = _uuid(values["nonprofit"], "nonprofit", errors)
    since = _day(values["since"], "since", errors)
    until = _day(values["until"], "until", errors)
    if since is not None and until is not None and until < since:
        errors["until"] = "the end date is before the start date"
        until = None
    where = audit.AuditFilter(
        action=text["action"],
        subject_type=text["subject_type"],
        subject_id=text["subject_id"],
        actor=text["actor"],
        nonprofit_id=nonprofit_id,
        since=_start_of(since),
        until=_start_of(until + timedelta(days=1)) if until is not None else None,
    )
    raw_cursor = params.get("cursor", "")
    cursor = raw_cursor if _CURSOR.match(raw_cursor) else None
    return AuditQuery(where=where, cursor=cursor, values=values, errors=errors)


def _word(value: str, name: str, errors: dict[str, str]) -> str | None:
    if not value:
        return None
    if not _WORD.match(value):
        errors[name] = "use letters, digits and . _ - : @ + only"
        return None
    return value


def _uuid(value: str, name: str, errors: dict[str, str]) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        errors[name] = "not an id (like 0b6f3c2e-...)"
        return None


def _day(value: str, name: str, errors: dict[str, str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = "use a date like 2026-11-28"
        return None


def _start_of(day: date | None) -> datetime | None:
    return datetime.combine(day, time(), tzinfo=UTC) if day is not None else None


def query_string(values: Mapping[str, str], **extra: str) -> str:
    """The filter's query string (empty fields dropped), e.g. for the export link and paging."""
    pairs = {k: v for k, v in values.items() if v} | {k: v for k, v in extra.items() if v}
    return urlencode(pairs)


def pretty(data: dict[str, Any] | None) -> str:
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False, default=str) if data else ""


@dataclass(frozen=True)
class Change:
    key: str
    before: str | None
    after: str | None


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[Change]:
    """Only the fields that differ: a campaign snapshot has twenty keys, a decision moves one."""
    old, new = before or {}, after or {}
    return [
        Change(key, _short(old[key]) if key in old else None, _short(new[key]) if key in new else None)
        for key in sorted(old.keys() | new.keys())
        if old.get(key, _MISSING) != new.get(key, _MISSING)
    ]


_MISSING = object()


def _short(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


@admin_page(AdminRole.REVIEWER, AdminRole.FINANCE)
async def audit_log_page(request: Request, admin: Admin) -> Response:
    query = audit_filter_from_query(request.query_params)
    async with database(request).transaction() as session:
        rows = list(
            await audit.list_entries(session, where=query.where, cursor=query.cursor, limit=PAGE_SIZE + 1)
        )
        actions = await audit.list_actions(session)
    following = next_cursor(rows, PAGE_SIZE)
    context = {
        "admin": admin,
        "entries": rows[:PAGE_SIZE],
        "actions": actions,
        "values": query.values,
        "errors": query.errors,
        "export_query": query_string(query.values),
        "next_query": query_string(query.values, cursor=following) if following else None,
        "first_query": query_string(query.values) if query.cursor else None,
        "pretty": pretty,
        "changes": changes,
    }
    return render(request, "console/audit_log.html", context, language="en")


routes: list[BaseRoute] = [Route("/audit-log", audit_log_page, methods=["GET"], name="audit_log")]
