"""One-time links and fundraiser sessions: a fundraiser has no password.

- A link's token (256 bits) is stored only as its SHA-256; it works once (`used_at`, set by one
  guarded UPDATE, so two clicks at once cannot both win) and until `expires_at`, from the unit's
  clock: confirmation links for CONFIRM_LIFETIME (people confirm from a phone later that day),
  sign-in links for SIGN_IN_LIFETIME.
- Mail scanners fetch links to look at them, so the pages that receive a link only show a
  button on GET (`link_is_usable`); the POST it makes spends the token.
- Asking for a sign-in link always writes a link and queues its email, whether or not the
  address has pages in the campaign: the answer, the work and the outbox look the same for
  every address (no account enumeration). An address without pages signs in to an empty list.
- A session is a random token in a cookie; `fundraiser_sessions` keeps its digest and decides
  whether it still opens anything (signing out revokes it on the server). It is bound to one
  campaign and one address: it manages that address's pages in that campaign.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.fundraising.models import FundraiserLink, FundraiserSession, LinkPurpose
from service.auth.secrets import token_digest
from service.unit_of_work import UnitOfWork

CONFIRM_LIFETIME = timedelta(hours=24)
SIGN_IN_LIFETIME = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=2)


@dataclass(frozen=True)
class IssuedLink:
    token: str
    """Goes into the emailed URL once; only its digest is stored."""
    link: FundraiserLink


@dataclass(frozen=True)
class Owner:
    """Who a live fundraiser session stands for: an address, in one campaign."""

    campaign_id: uuid.UUID
    email: str


async def issue_link(
    session: UnitOfWork,
    *,
    purpose: LinkPurpose,
    campaign_id: uuid.UUID,
    email: str,
    language: str,
    fundraiser_id: uuid.UUID | None = None,
) -> IssuedLink:
    token = secrets.token_urlsafe(32)
    now = session.now()
    lifetime = CONFIRM_LIFETIME if purpose is LinkPurpose.CONFIRM else SIGN_IN_LIFETIME
    link = FundraiserLink(
        id=uuid.uuid4(),
        purpose=purpose,
        token_digest=token_digest(token),
        campaign_id=campaign_id,
        email=email,
        fundraiser_id=fundraiser_id,
        language=language,
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(link)
    await session.flush()
    return IssuedLink(token=token, link=link)


async def link_is_usable(session: AsyncSession, *, token: str, purpose: LinkPurpose, now: datetime) -> bool:
    """Whether the link would still work (for the page a click opens); spends nothing."""
    found = await session.scalar(
        sa.select(FundraiserLink.id).where(
            FundraiserLink.token_digest == token_digest(token),
            FundraiserLink.purpose == purpose,
            FundraiserLink.used_at.is_(None),
            FundraiserLink.expires_at > now,
        )
    )
    return found is not None


async def spend_link(session: UnitOfWork, *, token: str, purpose: LinkPurpose) -> FundraiserLink | None:
    """Use the link: the link's row, or None when it is unknown, used, expired or of another kind.

    One UPDATE ... WHERE used_at IS NULL: of two requests spending the same token at once,
    exactly one gets the row back.
    """
    now = session.now()
    link_id = await session.scalar(
        sa.update(FundraiserLink)
        .where(
            FundraiserLink.token_digest == token_digest(token),
            FundraiserLink.purpose == purpose,
            FundraiserLink.used_at.is_(None),
            FundraiserLink.expires_at > now,
        )
        .values(used_at=now)
        .returning(FundraiserLink.id)
    )
    if link_id is None:
        return None
    return await session.get(FundraiserLink, link_id)


async def open_session(session: UnitOfWork, *, campaign_id: uuid.UUID, email: str) -> str:
    """A new fundraiser session; the token for the cookie (only its digest is stored)."""
    token = secrets.token_urlsafe(32)
    now = session.now()
    session.add(
        FundraiserSession(
            id=uuid.uuid4(),
            token_digest=token_digest(token),
            campaign_id=campaign_id,
            email=email,
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    await session.flush()
    return token


async def session_owner(session: AsyncSession, *, token: str | None, now: datetime) -> Owner | None:
    """Who a live session stands for, or None (unknown, signed out or expired)."""
    if not token:
        return None
    row = (
        await session.execute(
            sa.select(FundraiserSession.campaign_id, FundraiserSession.email).where(
                FundraiserSession.token_digest == token_digest(token),
                FundraiserSession.revoked_at.is_(None),
                FundraiserSession.expires_at > now,
            )
        )
    ).first()
    return Owner(campaign_id=row[0], email=row[1]) if row is not None else None


async def end_session(session: UnitOfWork, *, token: str | None) -> None:
    if not token:
        return
    await session.execute(
        sa.update(FundraiserSession)
        .where(FundraiserSession.token_digest == token_digest(token), FundraiserSession.revoked_at.is_(None))
        .values(revoked_at=session.now())
    )


async def purge_expired(session: UnitOfWork) -> int:
    """Drop links and sessions a day past their end."""
    cutoff = session.now() - timedelta(days=1)
    links = await session.execute(sa.delete(FundraiserLink).where(FundraiserLink.expires_at < cutoff))
    sessions = await session.execute(
        sa.delete(FundraiserSession).where(FundraiserSession.expires_at < cutoff)
    )
    return int(getattr(links, "rowcount", 0) or 0) + int(getattr(sessions, "rowcount", 0) or 0)
