"""Append-only audit log of every admin decision (and other privileged actions).

The table refuses UPDATE and DELETE through a database trigger (see the migration), so the
log cannot be rewritten by application code either.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, created_at_column, str_enum, uuid_pk


class ActorType(StrEnum):
    ADMIN = "admin"
    MEMBER = "member"
    API_KEY = "api_key"
    SYSTEM = "system"


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_subject", "subject_type", "subject_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    created_at: Mapped[datetime] = created_at_column()
    actor_type: Mapped[ActorType] = mapped_column(str_enum(ActorType, "audit_actor_type"))
    actor_id: Mapped[str | None] = mapped_column(sa.String(64))
    actor_label: Mapped[str] = mapped_column(sa.String(320))
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    subject_type: Mapped[str] = mapped_column(sa.String(32))
    subject_id: Mapped[str] = mapped_column(sa.String(64))
    nonprofit_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid(), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON())
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON())
    note: Mapped[str | None] = mapped_column(sa.Text())


async def record(
    session: AsyncSession,
    *,
    actor_type: ActorType,
    actor_id: str | None,
    actor_label: str,
    action: str,
    subject_type: str,
    subject_id: str,
    nonprofit_id: uuid.UUID | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    note: str | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor_type=actor_type,
        actor_id=actor_id,
        actor_label=actor_label,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        nonprofit_id=nonprofit_id,
        before=dict(before) if before is not None else None,
        after=dict(after) if after is not None else None,
        note=note,
    )
    session.add(entry)
    await session.flush()
    return entry


async def list_entries(
    session: AsyncSession,
    *,
    subject_type: str | None = None,
    subject_id: str | None = None,
    action: str | None = None,
    limit: int = 50,
    before_created_at: datetime | None = None,
) -> Sequence[AuditEntry]:
    query = sa.select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(limit)
    if subject_type is not None:
        query = query.where(AuditEntry.subject_type == subject_type)
    if subject_id is not None:
        query = query.where(AuditEntry.subject_id == subject_id)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if before_created_at is not None:
        query = query.where(AuditEntry.created_at < before_created_at)
    return (await session.scalars(query)).all()
