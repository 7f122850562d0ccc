"""Keyset pagination: opaque cursors over (created_at, id), stable under concurrent inserts."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from service.errors import DomainError


class InvalidCursor(DomainError):
    code = "invalid_cursor"
    status_code = 400


CursorToken = Annotated[str, StringConstraints(max_length=200, pattern=r"^[A-Za-z0-9_-]*$")]


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=20, ge=1, le=100)
    cursor: CursorToken | None = None


# Any SELECT, whatever its columns (Select is generic over the tuple of its column types).
_AnySelect = TypeVar("_AnySelect", bound="sa.Select[*tuple[Any, ...]]")


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        raw = f"{self.created_at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            created, row_id = raw.split("|", 1)
            created_at = datetime.fromisoformat(created)
            if created_at.tzinfo is None:
                raise ValueError("naive")
            return cls(created_at=created_at, id=uuid.UUID(row_id))
        except (ValueError, binascii.Error, UnicodeDecodeError) as e:
            raise InvalidCursor("the cursor is not one this API issued") from e


def after_cursor(query: sa.Select[Any], created_col: Any, id_col: Any, cursor: str | None) -> sa.Select[Any]:
    """Order by (created_at, id) and start after the cursor, if any."""
    query = query.order_by(created_col, id_col)
    if cursor is None:
        return query
    position = Cursor.decode(cursor)
    return query.where(
        sa.or_(
            created_col > position.created_at,
            sa.and_(created_col == position.created_at, id_col > position.id),
        )
    )


def newest_first(query: _AnySelect, created_col: Any, id_col: Any, before: Cursor | None) -> _AnySelect:
    """Order by (created_at, id) descending and continue after `before` (the last row of the
    previous page), if any: the lists people page through, newest at the top."""
    if before is not None:
        query = query.where(
            sa.or_(
                created_col < before.created_at,
                sa.and_(created_col == before.created_at, id_col < before.id),
            )
        )
    return query.order_by(created_col.desc(), id_col.desc())


def next_cursor(rows: list[Any], limit: int) -> str | None:
    """Rows were fetched with limit + 1: a surplus row means there is another page."""
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return Cursor(created_at=last.created_at, id=last.id).encode()
