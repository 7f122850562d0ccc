"""Large exports are read page by page: every row exactly once, in order, across page edges."""

from __future__ import annotations

import csv
import io
import uuid

import httpx
import pytest

from campaigns.exports import audit_log, donations
from campaigns.exports.schemas import DonationExportQuery
from campaigns.exports.spec import Audience, stream_csv
from service import audit
from service.audit import AuditFilter
from service.db import Database
from service.settings import Settings
from tests.exports.builders import paid_donation, tenant


async def _read(
    database: Database, *, nonprofit_id: uuid.UUID | None, page_size: int = 500
) -> tuple[list[bytes], list[list[str]]]:
    stream = stream_csv(
        database,
        donations.EXPORT,
        filters=DonationExportQuery(),
        nonprofit_id=nonprofit_id,
        audience=Audience.NONPROFIT,
        page_size=page_size,
    )
    chunks = [chunk async for chunk in stream]
    text = b"".join(chunks).decode("utf-8-sig")
    return chunks, list(csv.reader(io.StringIO(text, newline="")))


class TestStreaming:
    @pytest.mark.parametrize("page_size", [1, 2, 5, 6])
    async def test_every_row_once_in_creation_order(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, page_size: int
    ) -> None:
        org = await tenant(client, database, "eur")
        made = [
            await paid_donation(client, database, settings, org.campaigns["eur"], amount_minor=1_000 + i)
            for i in range(5)
        ]

        chunks, rows = await _read(
            database, nonprofit_id=org.campaigns["eur"].nonprofit_id, page_size=page_size
        )

        assert [row[0] for row in rows[1:]] == [str(d) for d in made]
        assert len(chunks) == 1 + -(-5 // page_size)  # the header, then one chunk per non-empty page

    async def test_a_nonprofit_stream_without_a_nonprofit_is_refused(self, database: Database) -> None:
        with pytest.raises(ValueError, match="scoped"):
            await _read(database, nonprofit_id=None)

    async def test_the_audit_log_pages_newest_first_without_gaps(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        await tenant(client, database, "eur")
        await tenant(client, database, "eur")
        async with database.transaction() as session:
            expected = [str(e.id) for e in await audit.list_entries(session, limit=1_000)]
        assert len(expected) >= 4  # two verifications and two campaign approvals at least

        stream = stream_csv(
            database,
            audit_log.EXPORT,
            filters=AuditFilter(),
            nonprofit_id=None,
            audience=Audience.ADMIN,
            page_size=1,
        )
        text = b"".join([chunk async for chunk in stream]).decode("utf-8-sig")

        assert [row[0] for row in list(csv.reader(io.StringIO(text, newline="")))[1:]] == expected
