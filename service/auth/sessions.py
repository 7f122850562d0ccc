"""Server-side sign-in sessions for the dashboard and the console.

The signed cookie alone cannot be taken back: whoever copied it could use it until it
expired, also after its owner signed out or changed the password. So the cookie carries a
random token and this table decides whether it still opens anything. Only the token's
SHA-256 is stored (256 bits of entropy, so a fast hash is enough), never the token.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.models import AuthSession, SessionKind
from service.auth.secrets import token_digest

SESSION_LIFETIME = timedelta(hours=12)
"""As long as the session cookie lives (service/app.py); a row never outlives its cookie."""
TOUCH_EVERY = timedelta(minutes=1)
"""How stale last_seen_at may get before a request writes it again: one write a minute per
signed-in browser instead of one per page, at the cost of a minute's slack on idle expiry."""


@dataclass(frozen=True)
class OpenedSession:
    token: str
    """Goes into the signed cookie; only its digest is stored."""
    row: AuthSession


async def open_session(
    session: AsyncSession, *, kind: SessionKind, subject_id: uuid.UUID, now: datetime
) -> OpenedSession:
    token = secrets.token_urlsafe(32)
    row = AuthSession(
        token_digest=token_digest(token),
        kind=kind,
        subject_id=subject_id,
        created_at=now,
        last_seen_at=now,
    )
    session.add(row)
    await session.flush()
    return OpenedSession(token=token, row=row)


async def resolve_session(
    session: AsyncSession,
    *,
    kind: SessionKind,
    token: object,
    now: datetime,
    idle_timeout: timedelta | None = None,
) -> AuthSession | None:
    """The live session this token opens, or None (unknown, revoked, expired or idle too long)."""
    if not isinstance(token, str) or not token:
        return None
    row = await session.scalar(
        sa.select(AuthSession).where(
            AuthSession.token_digest == token_digest(token), AuthSession.kind == kind
        )
    )
    if row is None or not _is_live(row, now=now, idle_timeout=idle_timeout):
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return row


def _is_live(row: AuthSession, *, now: datetime, idle_timeout: timedelta | None) -> bool:
    if row.revoked_at is not None or now >= row.created_at + SESSION_LIFETIME:
        return False
    return idle_timeout is None or now < row.last_seen_at + idle_timeout


async def revoke_session(session: AsyncSession, *, kind: SessionKind, token: object, now: datetime) -> None:
    if not isinstance(token, str) or not token:
        return
    await session.execute(
        sa.update(AuthSession)
        .where(
            AuthSession.token_digest == token_digest(token),
            AuthSession.kind == kind,
            AuthSession.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )


async def revoke_subject_sessions(
    session: AsyncSession,
    *,
    kind: SessionKind,
    subject_id: uuid.UUID,
    now: datetime,
    keep_token: str | None = None,
) -> int:
    """End every session of one member or admin (a password change), except `keep_token`'s."""
    stmt = sa.update(AuthSession).where(
        AuthSession.kind == kind,
        AuthSession.subject_id == subject_id,
        AuthSession.revoked_at.is_(None),
    )
    if keep_token:
        stmt = stmt.where(AuthSession.token_digest != token_digest(keep_token))
    result = await session.execute(stmt.values(revoked_at=now))
    return int(getattr(result, "rowcount", 0) or 0)


async def purge_expired_sessions(session: AsyncSession, *, now: datetime) -> int:
    result = await session.execute(
        sa.delete(AuthSession).where(AuthSession.created_at < now - SESSION_LIFETIME - timedelta(days=1))
    )
    return int(getattr(result, "rowcount", 0) or 0)
