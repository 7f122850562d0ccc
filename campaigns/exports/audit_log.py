"""The audit-log export (admins only): who did what, when, to what, before and after.

Rows come from `service.audit.list_entries` with the console page's own filter
(`audit.AuditFilter`), newest first like the page, so the file holds exactly what the
filtered page lists, page after page.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.exports.schemas import AuditExportQuery
from campaigns.exports.spec import Column, Export, Position
from service import audit
from service.audit import AuditEntry, AuditFilter
from service.pagination import Cursor


def audit_filter(query: AuditExportQuery) -> AuditFilter:
    return AuditFilter(
        action=query.action,
        subject_type=query.subject_type,
        subject_id=query.subject_id,
        actor=query.actor,
        nonprofit_id=query.nonprofit_id,
        since=query.since,
        until=query.until,
    )


async def fetch_page(
    session: AsyncSession,
    *,
    filters: AuditFilter,
    nonprofit_id: uuid.UUID | None,
    after: Position | None,
    limit: int,
) -> Sequence[AuditEntry]:
    where = filters if nonprofit_id is None else dataclasses.replace(filters, nonprofit_id=nonprofit_id)
    cursor = None if after is None else Cursor(created_at=after.created_at, id=after.id).encode()
    return await audit.list_entries(session, where=where, cursor=cursor, limit=limit)


def json_text(value: dict[str, Any] | None) -> str | None:
    """Compact, key-sorted JSON, non-ASCII kept as is (the file is UTF-8)."""
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _optional_id(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


COLUMNS: tuple[Column[AuditEntry], ...] = (
    Column("entry_id", lambda e: str(e.id)),
    Column("created_at", lambda e: e.created_at),
    Column("actor_type", lambda e: e.actor_type.value),
    Column("actor_id", lambda e: e.actor_id),
    Column("actor", lambda e: e.actor_label),
    Column("action", lambda e: e.action),
    Column("subject_type", lambda e: e.subject_type),
    Column("subject_id", lambda e: e.subject_id),
    Column("nonprofit_id", lambda e: _optional_id(e.nonprofit_id)),
    Column("before", lambda e: json_text(e.before)),
    Column("after", lambda e: json_text(e.after)),
    Column("note", lambda e: e.note),
)

EXPORT: Export[AuditFilter, AuditEntry] = Export(
    name="audit-log",
    columns=COLUMNS,
    fetch_page=fetch_page,
    position=lambda e: Position(e.created_at, e.id),
)
