"""A webhook batch reads each nonprofit's settings once, however many of its gifts it confirms.

The fact listeners (receipts' issuer, the members' gift emails, outbound webhook endpoints) read
a nonprofit's settings for every fact; inside one batch those are the same rows each time, so
the processor turns on UnitOfWork.remembered and each is read once per batch. Everywhere else
a unit reads afresh, so one that changes a setting and then announces a fact sees its change.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy import event as sa_event

from campaigns.receipts.models import Receipt
from service.db import Database
from service.settings import Settings
from tests.webhooks.builders import LiveCampaign, deliver, insert_donation
from tests.webhooks.stripe_events import event
from webhooks.processor import process_due_events

GIFTS = 6


@contextmanager
def selects_from(database: Database) -> Iterator[Counter[str]]:
    """Counts the SELECT statements run on `database`, by the first table they read."""
    counts: Counter[str] = Counter()

    def count(
        _conn: Any, _cursor: Any, statement: str, _parameters: Any, _context: Any, _executemany: bool
    ) -> None:
        found = re.match(r"\s*SELECT\s.*?\sFROM\s+(\w+)", statement, re.S | re.I)
        if found:
            counts[found.group(1)] += 1

    engine = database.engine.sync_engine
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        yield counts
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)


async def test_a_batch_of_gifts_reads_the_nonprofits_settings_once(
    client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
) -> None:
    for i in range(GIFTS):
        payment = await insert_donation(database, campaign, donor_email=f"d{i}@example.org")
        evt = event("checkout.session.completed", payment.checkout_session())
        assert (await deliver(client, evt, settings.webhook_secret)).status_code == 200

    with selects_from(database) as selects:
        assert await process_due_events(database) == GIFTS

    # The receipt issuer (no tax profile: the nonprofit's own row), the members and their
    # choices, the enabled endpoints: once each for the batch, not once per gift.
    assert selects["tax_profiles"] == 1
    assert selects["nonprofits"] <= 1
    assert selects["members"] == 1
    assert selects["webhook_endpoints"] == 1
    # No endpoint is enabled: the stored event is not read back to address deliveries.
    assert selects["integration_events"] == 0
    async with database.transaction() as session:
        receipts = await session.scalar(sa.select(sa.func.count()).select_from(Receipt))
    assert receipts == GIFTS


async def test_outside_a_batch_every_read_is_fresh(database: Database) -> None:
    loads = 0

    async def load() -> int:
        nonlocal loads
        loads += 1
        return loads

    async with database.transaction() as session:
        assert [await session.remembered("k", load), await session.remembered("k", load)] == [1, 2]
        session.batch_reads = {}
        assert [await session.remembered("k", load), await session.remembered("k", load)] == [3, 3]
