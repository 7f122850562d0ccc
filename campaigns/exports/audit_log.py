"""The audit-log export (admins only): who did what, when, to what, before and after."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.exports.schemas import AuditExportQuery
from campaigns.exports.spec import Column, Export, Position, after_position
from service.audit import AuditEntry


async def fetch_page(
    session: AsyncSession,
    *,
    filters: AuditExportQuery,
    nonprofit_id: uuid.UUID | None,
    after: Position | None,
    limit: int,
) -> Sequence[AuditEntry]:
    query = sa.select(AuditEntry)
    if nonprofit_id is not None:
        query = query.where(AuditEntry.nonprofit_id == nonprofit_id)
    if filters.action is not None:
        query = query.where(AuditEntry.action == filters.action)
    if filters.subject_type is not None:
        query = query.where(AuditEntry.subject_type == filters.subject_type)
    if filters.subject_id is not None:
        query = query.where(AuditEntry.subject_id == filters.subject_id)
    if filters.actor is not None:
        query = query.where(
            sa.or_(AuditEntry.actor_label == filters.actor, AuditEntry.actor_id == filters.actor)
        )
    if filters.since is not None:
        query = query.where(AuditEntry.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEntry.created_at < filters.until)
    query = after_position(query, AuditEntry.created_at, AuditEntry.id, after).limit(limit)
    return (await session.scalars(query)).all()


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

EXPORT: Export[AuditExportQuery, AuditEntry] = Export(
    name="audit-log",
    columns=COLUMNS,
    fetch_page=fetch_page,
    position=lambda e: Position(e.created_at, e.id),
)
