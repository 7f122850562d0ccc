"""What an export is: its columns, who may see each, and how its rows are fetched page by page."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar, TypeVarTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.exports.csvfile import Cell, CsvEncoder
from service.db import Database

RowT = TypeVar("RowT")
FiltersT = TypeVar("FiltersT")
FiltersC = TypeVar("FiltersC", contravariant=True)
RowC = TypeVar("RowC", covariant=True)
Cols = TypeVarTuple("Cols")

PAGE_SIZE = 500


class Audience(StrEnum):
    NONPROFIT = "nonprofit"
    """A nonprofit's member or API key: their own rows, no platform-internal columns."""
    ADMIN = "admin"
    """A platform admin: every organisation's rows and every column."""


@dataclass(frozen=True)
class Position:
    """Keyset position (created_at, id): pages stay stable while new rows arrive."""

    created_at: datetime
    id: uuid.UUID


@dataclass(frozen=True)
class Column(Generic[RowT]):
    header: str
    value: Callable[[RowT], Cell]
    admin_only: bool = False


class FetchPage(Protocol[FiltersC, RowC]):
    def __call__(
        self,
        session: AsyncSession,
        *,
        filters: FiltersC,
        nonprofit_id: uuid.UUID | None,
        after: Position | None,
        limit: int,
    ) -> Awaitable[Sequence[RowC]]: ...


@dataclass(frozen=True)
class Export(Generic[FiltersT, RowT]):
    name: str
    columns: Sequence[Column[RowT]]
    fetch_page: FetchPage[FiltersT, RowT]
    position: Callable[[RowT], Position]
    new_reader: Callable[[], FetchPage[FiltersT, RowT]] | None = None
    """For an export whose pages share work worth doing once per download (the fundraisers'
    per-campaign tallies): a fresh page reader for each download, used instead of fetch_page."""

    def columns_for(self, audience: Audience) -> list[Column[RowT]]:
        return [c for c in self.columns if audience is Audience.ADMIN or not c.admin_only]


async def stream_csv(
    database: Database,
    export: Export[FiltersT, RowT],
    *,
    filters: FiltersT,
    nonprofit_id: uuid.UUID | None,
    audience: Audience,
    page_size: int = PAGE_SIZE,
) -> AsyncIterator[bytes]:
    """The CSV as chunks of bytes, one page of rows each.

    Each page is read in a short transaction of its own: a slow download must not hold a
    database connection (or, on SQLite, the write lock) for its whole length.
    """
    if audience is Audience.NONPROFIT and nonprofit_id is None:
        raise ValueError("a nonprofit export must be scoped to one nonprofit")
    columns = export.columns_for(audience)
    encoder = CsvEncoder()
    yield encoder.encode([[c.header for c in columns]])
    after: Position | None = None
    fetch_page = export.new_reader() if export.new_reader is not None else export.fetch_page
    while True:
        async with database.transaction() as session:
            rows = await fetch_page(
                session, filters=filters, nonprofit_id=nonprofit_id, after=after, limit=page_size
            )
        if rows:
            yield encoder.encode([[c.value(row) for c in columns] for row in rows])
        if len(rows) < page_size:
            return
        after = export.position(rows[-1])


def after_position(
    query: sa.Select[*Cols], created_col: Any, id_col: Any, after: Position | None
) -> sa.Select[*Cols]:
    """Order by (created_at, id) and start after `after`."""
    query = query.order_by(created_col, id_col)
    if after is None:
        return query
    return query.where(
        sa.or_(created_col > after.created_at, sa.and_(created_col == after.created_at, id_col > after.id))
    )
