"""Rate limits kept in the database, so every `goodloop serve` process shares them.

PostgreSQL is the only shared state in a scaled-out deployment (docs/architecture.md, "Shared
state"), so the counter is one upserted row per (key, window): `INSERT ... ON CONFLICT DO UPDATE
... RETURNING hits`.
Keys are hashed with the secret key so no raw IP address or email is stored.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, insert_for
from service.errors import RateLimited
from service.unit_of_work import UnitOfWork


class RateLimitWindow(Base):
    __tablename__ = "rate_limit_windows"

    key_digest: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    hits: Mapped[int] = mapped_column(sa.Integer(), nullable=False)


@dataclass(frozen=True)
class Limit:
    name: str
    max_hits: int
    window: timedelta
    message: str


def key_digest(secret_key: str, limit_name: str, subject: str) -> str:
    return hmac.new(secret_key.encode(), f"{limit_name}:{subject}".encode(), hashlib.sha256).hexdigest()


async def hit(
    session: UnitOfWork, *, secret_key: str, limit: Limit, subject: str, now: datetime | None = None
) -> None:
    """Count one attempt; raise RateLimited once the allowance over the last window is used up.

    A sliding window, estimated from two fixed ones (this one, plus the previous one weighted
    by how much of it lies within one window of now, rounded up): a fixed window alone lets a
    burst straddling its boundary through twice over, and forgets a hammering client the
    moment a new window starts.
    """
    now = now or session.now()
    window_s = int(limit.window.total_seconds())
    start_epoch = int(now.timestamp()) // window_s * window_s
    digest = key_digest(secret_key, limit.name, subject)
    stmt = (
        insert_for(session, RateLimitWindow)
        .values(key_digest=digest, window_start=_at(start_epoch, now), hits=1)
        .on_conflict_do_update(
            index_elements=["key_digest", "window_start"],
            set_={"hits": RateLimitWindow.hits + 1},
        )
        .returning(RateLimitWindow.hits)
    )
    hits = (await session.execute(stmt)).scalar_one()
    previous = await session.scalar(
        sa.select(RateLimitWindow.hits).where(
            RateLimitWindow.key_digest == digest,
            RateLimitWindow.window_start == _at(start_epoch - window_s, now),
        )
    )
    elapsed = int(now.timestamp()) - start_epoch
    carried = _ceil_div((previous or 0) * (window_s - elapsed), window_s)
    if hits + carried > limit.max_hits:
        raise RateLimited(limit.message, retry_after_s=_retry_after(limit, hits, window_s, elapsed))


def _retry_after(limit: Limit, hits: int, window_s: int, elapsed: int) -> int:
    """Seconds until one more attempt fits: this window must end, and enough of it slide out."""
    room = limit.max_hits - 1
    slide = window_s if room <= 0 else max(0, _ceil_div(window_s * (hits - room), hits))
    return max(window_s - elapsed + slide, 1)


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def _at(epoch: int, like: datetime) -> datetime:
    return datetime.fromtimestamp(epoch, tz=like.tzinfo)


async def purge_expired(session: UnitOfWork, *, older_than: timedelta = timedelta(days=1)) -> int:
    result = await session.execute(
        sa.delete(RateLimitWindow).where(RateLimitWindow.window_start < session.now() - older_than)
    )
    return int(getattr(result, "rowcount", 0) or 0)
