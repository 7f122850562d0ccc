"""Append-only audit log of every admin decision (and other privileged actions).

The table refuses UPDATE and DELETE through a database trigger (see the migration), so the
log cannot be rewritten by application code either.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, created_at_column, str_enum, uuid_pk
from service.pagination import Cursor


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


class AuditActor(Protocol):
    """Who acted, as the log names them. An admin (`service.auth.models.Admin`), a member or
    API key (`campaigns.nonprofits.actors.Actor`) and `SystemActor` all are one, so no caller
    spells out the three columns itself."""

    @property
    def actor_type(self) -> ActorType: ...

    @property
    def actor_id(self) -> str | None: ...

    @property
    def label(self) -> str: ...


@dataclass(frozen=True)
class SystemActor:
    """Goodloop itself (the matching engine, the CLI), named by what acted."""

    label: str
    actor_type: ActorType = ActorType.SYSTEM
    actor_id: str | None = None


def entry(
    *,
    actor: AuditActor,
    action: str,
    subject_type: str,
    subject_id: str,
    nonprofit_id: uuid.UUID | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    note: str | None = None,
) -> AuditEntry:
    """A new entry (not added): for callers that let entries ride along with their next flush."""
    return AuditEntry(
        actor_type=actor.actor_type,
        actor_id=actor.actor_id,
        actor_label=actor.label,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        nonprofit_id=nonprofit_id,
        before=dict(before) if before is not None else None,
        after=dict(after) if after is not None else None,
        note=note,
    )


async def record(
    session: AsyncSession,
    *,
    actor: AuditActor,
    action: str,
    subject_type: str,
    subject_id: str,
    nonprofit_id: uuid.UUID | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    note: str | None = None,
) -> AuditEntry:
    added = entry(
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        nonprofit_id=nonprofit_id,
        before=before,
        after=after,
        note=note,
    )
    session.add(added)
    await session.flush()
    return added


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to list; every field narrows, None means any. `until` is exclusive."""

    action: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    actor: str | None = None
    """An admin's email (any case) or an actor id."""
    nonprofit_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None


async def list_entries(
    session: AsyncSession,
    *,
    subject_type: str | None = None,
    subject_id: str | None = None,
    action: str | None = None,
    limit: int = 50,
    before_created_at: datetime | None = None,
    where: AuditFilter | None = None,
    cursor: str | None = None,
) -> Sequence[AuditEntry]:
    """Newest first. `cursor` (from service.pagination.next_cursor) continues after a page."""
    query = sa.select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(limit)
    narrowed = AuditFilter(action=action, subject_type=subject_type, subject_id=subject_id)
    for condition in (*_conditions(narrowed), *_conditions(where or AuditFilter())):
        query = query.where(condition)
    if before_created_at is not None:
        query = query.where(AuditEntry.created_at < before_created_at)
    if cursor is not None:
        position = Cursor.decode(cursor)
        query = query.where(
            sa.or_(
                AuditEntry.created_at < position.created_at,
                sa.and_(AuditEntry.created_at == position.created_at, AuditEntry.id < position.id),
            )
        )
    return (await session.scalars(query)).all()


def _conditions(where: AuditFilter) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if where.action is not None:
        conditions.append(AuditEntry.action == where.action)
    if where.subject_type is not None:
        conditions.append(AuditEntry.subject_type == where.subject_type)
    if where.subject_id is not None:
        conditions.append(AuditEntry.subject_id == where.subject_id)
    if where.actor is not None:
        conditions.append(
            sa.or_(
                AuditEntry.actor_id == where.actor,
                sa.func.lower(AuditEntry.actor_label) == where.actor.strip().lower(),
            )
        )
    if where.nonprofit_id is not None:
        conditions.append(AuditEntry.nonprofit_id == where.nonprofit_id)
    if where.since is not None:
        conditions.append(AuditEntry.created_at >= where.since)
    if where.until is not None:
        conditions.append(AuditEntry.created_at < where.until)
    return conditions


async def list_actions(session: AsyncSession) -> list[str]:
    """Every action the log holds, for a filter's choices."""
    return list(await session.scalars(sa.select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
