"""Use cases: who may download which export, and the audit entry every download leaves.

A file of donors' names and emails leaving the platform is a privileged act, so each download
is recorded (who, which export, which filters) before the first byte is sent.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.exports.spec import Audience, Export, stream_csv
from campaigns.nonprofits.actors import Actor
from service import audit
from service.auth.admins import require_role
from service.auth.models import Admin, AdminRole
from service.db import Database

DOWNLOAD_ACTION = "export.download"
ADMIN_ROLES = (AdminRole.REVIEWER, AdminRole.FINANCE)
"""Who may export on the platform side (superadmins may anyway)."""


def filename(export_name: str, *, at: datetime) -> str:
    return f"goodloop-{export_name}-{at:%Y%m%d-%H%M%S}.csv"


def _filters_json(filters: object) -> dict[str, Any]:
    """The filters as the audit entry records them: only those given, as JSON values."""
    if isinstance(filters, BaseModel):
        return filters.model_dump(mode="json", exclude_none=True)
    if dataclasses.is_dataclass(filters) and not isinstance(filters, type):
        given = {k: v for k, v in dataclasses.asdict(filters).items() if v is not None}
        return {k: v.isoformat() if isinstance(v, datetime) else str(v) for k, v in given.items()}
    raise TypeError(f"cannot describe filters of type {type(filters).__name__}")


async def start_nonprofit_export(
    session: AsyncSession,
    database: Database,
    *,
    actor: Actor,
    export: Export[Any, Any],
    filters: Any,
) -> AsyncIterator[bytes]:
    """The caller's own organisation's rows, never anyone else's: the scope is the actor's."""
    await audit.record(
        session,
        actor=actor,
        action=DOWNLOAD_ACTION,
        subject_type="export",
        subject_id=export.name,
        nonprofit_id=actor.nonprofit_id,
        after=_filters_json(filters),
    )
    return stream_csv(
        database, export, filters=filters, nonprofit_id=actor.nonprofit_id, audience=Audience.NONPROFIT
    )


async def start_admin_export(
    session: AsyncSession,
    database: Database,
    *,
    admin: Admin,
    export: Export[Any, Any],
    filters: Any,
    nonprofit_id: uuid.UUID | None,
) -> AsyncIterator[bytes]:
    require_role(admin, *ADMIN_ROLES)
    await audit.record(
        session,
        actor=admin,
        action=DOWNLOAD_ACTION,
        subject_type="export",
        subject_id=export.name,
        nonprofit_id=nonprofit_id,
        after=_filters_json(filters),
    )
    return stream_csv(database, export, filters=filters, nonprofit_id=nonprofit_id, audience=Audience.ADMIN)
