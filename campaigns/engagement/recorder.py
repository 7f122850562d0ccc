"""Counting page views and started checkouts in memory, flushed to the database periodically.

Why in memory: the campaign page is served from the microcache, so a view costs no database
round trip; a write per view would add one, and would make every view of a viral campaign
queue on the same counter row. Each process instead adds to a dict keyed by (slug, UTC day,
metric), and a flush adds the counts to `engagement_counters` with one upsert. The flush runs
as a worker job in every serving process (the counts live in that process) and once more at a
clean shutdown. A process that dies uncleanly loses at most one flush interval of counts;
these numbers are shown to nonprofits and never pay money, so that is the trade taken.

Views are deduplicated per visitor, campaign and UTC day, with the rules of share-link
visits: the visitor is a keyed hash of client address and user agent under a key that rotates
daily (no raw address is kept), and bots are not counted. The device cookie is not the
visitor key: a first visit has no cookie yet, so keying on it would count every new visitor
twice, and a client that never keeps cookies on every request. The set of seen visitors is this
process's own, bounded by `max_seen` digests of 16 bytes, and cleared when it is full and when
the day changes; past a clearing a visitor can count once more that day, and behind a load
balancer each process may count a visitor once.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import cast

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request

from campaigns.engagement import repository
from campaigns.engagement.models import Metric
from campaigns.sharing.service import is_bot
from service.db import Database
from service.logging import get_logger
from service.worker import Job

log = get_logger("goodloop.engagement")

FLUSH_EVERY = timedelta(seconds=15)
MAX_SEEN = 200_000  # ~18 MB of digests and set slots per process, at most

PendingKey = tuple[str, date, Metric]

# Visitors' user agents repeat: the verdict for the common ones is kept.
_is_bot = functools.lru_cache(maxsize=1024)(is_bot)


class EngagementRecorder:
    def __init__(self, secret_key: str, *, clock: Callable[[], datetime], max_seen: int = MAX_SEEN) -> None:
        self.max_seen = max_seen
        self._secret = secret_key.encode()
        self._clock = clock
        self._pending: dict[PendingKey, int] = {}
        self._seen: set[bytes] = set()
        self._day: date | None = None
        self._day_key = b""

    def record_view(self, slug: str, *, address: str, user_agent: str) -> bool:
        """Count a view of the campaign at slug; False when this visitor was already counted."""
        day = self._today()
        visitor = f"{slug}\n{address}\n{user_agent}".encode()
        digest = hashlib.blake2b(visitor, key=self._day_key, digest_size=16).digest()
        if digest in self._seen:
            return False
        if len(self._seen) >= self.max_seen:
            self._seen.clear()
        # Bots go into the seen set too: a repeat request then costs one hash and one set
        # lookup; the bot pattern (tens of microseconds) runs for new visitors with a new agent.
        self._seen.add(digest)
        if _is_bot(user_agent):
            return False
        self._add((slug, day, Metric.VIEW))
        return True

    def record_checkout_started(self, slug: str) -> None:
        self._add((slug, self._today(), Metric.CHECKOUT_STARTED))

    def pending(self) -> dict[PendingKey, int]:
        """The counts not flushed yet (a copy)."""
        return dict(self._pending)

    async def flush(self, database: Database) -> int:
        """Add the pending counts to the database; returns the number of counter rows written.

        The batch is taken before the first await, so views counted during the flush go to
        the next one; if the flush fails the batch is put back and counted next time.
        """
        if not self._pending:
            return 0
        batch, self._pending = self._pending, {}
        try:
            async with database.transaction() as session:
                ids = await repository.campaign_ids_by_slug(session, {slug for slug, _, _ in batch})
                counts: dict[repository.CounterKey, int] = {}
                for (slug, day, metric), count in batch.items():
                    if slug in ids:  # slugs are fixed once a campaign is public
                        key = (ids[slug], day, metric)
                        counts[key] = counts.get(key, 0) + count
                return await repository.add_counts(session, counts)
        except BaseException:
            for taken, count in batch.items():
                self._pending[taken] = self._pending.get(taken, 0) + count
            raise

    async def close(self, database: Database) -> None:
        """The last flush, at a clean shutdown; a failure is logged, not raised, so the
        shutdown still releases the database."""
        try:
            await self.flush(database)
        except (SQLAlchemyError, OSError):
            log.exception("engagement counts lost at shutdown", pending=len(self._pending))

    def job(self) -> Job:
        async def flush_engagement(database: Database) -> int:
            await self.flush(database)
            # Always "nothing left to do": the worker then waits FLUSH_EVERY before the next
            # flush instead of flushing again at once, which on a busy page would mean a
            # database write every few views, what counting in memory is there to avoid.
            return 0

        return Job("flush_engagement", flush_engagement, FLUSH_EVERY)

    def _add(self, key: PendingKey) -> None:
        self._pending[key] = self._pending.get(key, 0) + 1

    def _today(self) -> date:
        day = self._clock().date()
        if day != self._day:
            self._day = day
            self._seen.clear()
            label = f"engagement-visitor:{day.isoformat()}".encode()
            self._day_key = hmac.new(self._secret, label, hashlib.sha256).digest()
        return day


def recorder(request: Request) -> EngagementRecorder:
    return cast(EngagementRecorder, request.app.state.engagement)
