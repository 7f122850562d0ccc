"""Donor sign-in: one-time links by email, then a donor session of its own.

A donor has no account and no password: whoever reads the mailbox is the donor. So:

- Asking for a link always writes a link and queues its email, whether or not any gift was
  ever made with that address. The answer, the work done and the outbox look the same for
  every address: nothing tells a visitor which addresses gave (no account enumeration). A
  mailbox that never gave simply opens an empty portal.
- The link's token (256 bits) is stored only as its SHA-256; it works once
  (`used_at`, set by one guarded UPDATE, so two clicks at once cannot both win) and for
  LINK_LIFETIME from the unit's clock.
- Mail scanners fetch links to inspect them: following the link (GET) only shows a "Sign in"
  button; the token is spent by the POST that button makes (campaigns.portal.pages).
- The session cookie carries another random token; `donor_sessions` stores its digest and
  decides whether it still opens anything, so signing out ends it on the server.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.portal.models import DonorSession, DonorSignInLink
from service.auth.secrets import token_digest
from service.db import Database
from service.unit_of_work import UnitOfWork
from service.worker import Job

LINK_LIFETIME = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=2)
"""A donor session is short: the portal is visited now and then, and a new link is one email away."""
MAX_EMAIL_LENGTH = 320
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")


def normalise_email(text: str) -> str | None:
    """The donor identity for an address as typed: trimmed and lowercased, or None when it is
    not an address at all. Lowercasing matches how gifts are looked up (case-insensitively)."""
    email = text.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        return None
    return email


@dataclass(frozen=True)
class IssuedLink:
    token: str
    """Goes into the emailed URL once; only its digest is stored."""
    link: DonorSignInLink


async def issue_link(session: UnitOfWork, *, email: str, language: str) -> IssuedLink:
    token = secrets.token_urlsafe(32)
    now = session.now()
    link = DonorSignInLink(
        token_digest=token_digest(token),
        email=email,
        language=language,
        created_at=now,
        expires_at=now + LINK_LIFETIME,
    )
    session.add(link)
    await session.flush()
    return IssuedLink(token=token, link=link)


async def link_is_usable(session: AsyncSession, *, token: str, now: datetime) -> bool:
    """Whether the link would still sign in (for the page a click opens); spends nothing."""
    found = await session.scalar(
        sa.select(DonorSignInLink.id).where(
            DonorSignInLink.token_digest == token_digest(token),
            DonorSignInLink.used_at.is_(None),
            DonorSignInLink.expires_at > now,
        )
    )
    return found is not None


async def spend_link(session: UnitOfWork, *, token: str) -> str | None:
    """Use the link: the donor's email, or None when it is unknown, used or expired.

    One UPDATE ... WHERE used_at IS NULL: of two requests spending the same token at once,
    exactly one gets the row back.
    """
    now = session.now()
    return await session.scalar(
        sa.update(DonorSignInLink)
        .where(
            DonorSignInLink.token_digest == token_digest(token),
            DonorSignInLink.used_at.is_(None),
            DonorSignInLink.expires_at > now,
        )
        .values(used_at=now)
        .returning(DonorSignInLink.email)
    )


async def open_session(session: UnitOfWork, *, email: str) -> str:
    """A new donor session; the token for the cookie (only its digest is stored)."""
    token = secrets.token_urlsafe(32)
    now = session.now()
    session.add(
        DonorSession(
            token_digest=token_digest(token), email=email, created_at=now, expires_at=now + SESSION_LIFETIME
        )
    )
    await session.flush()
    return token


async def session_email(session: AsyncSession, *, token: str | None, now: datetime) -> str | None:
    """The email a live donor session stands for, or None (unknown, signed out or expired)."""
    if not token:
        return None
    return await session.scalar(
        sa.select(DonorSession.email).where(
            DonorSession.token_digest == token_digest(token),
            DonorSession.revoked_at.is_(None),
            DonorSession.expires_at > now,
        )
    )


async def end_session(session: UnitOfWork, *, token: str | None) -> None:
    if not token:
        return
    await session.execute(
        sa.update(DonorSession)
        .where(DonorSession.token_digest == token_digest(token), DonorSession.revoked_at.is_(None))
        .values(revoked_at=session.now())
    )


async def purge_expired(session: UnitOfWork) -> int:
    """Drop links and sessions a day past their end (the worker's chore)."""
    cutoff = session.now() - timedelta(days=1)
    links = await session.execute(sa.delete(DonorSignInLink).where(DonorSignInLink.expires_at < cutoff))
    sessions = await session.execute(sa.delete(DonorSession).where(DonorSession.expires_at < cutoff))
    return int(getattr(links, "rowcount", 0) or 0) + int(getattr(sessions, "rowcount", 0) or 0)


async def purge_job(database: Database) -> int:
    """The worker's chore: one transaction, rows a day past their end."""
    async with database.transaction() as session:
        return await purge_expired(session)


JOB = Job("purge_donor_sign_ins", purge_job, timedelta(hours=1))
