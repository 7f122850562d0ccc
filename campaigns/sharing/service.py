"""Share links: channel links for nonprofits, one personal link per donor, deduplicated visits.

No raw IP address is stored: a visitor is an HMAC of (client address, user agent) under a key
that is derived from the secret key and the UTC day, so yesterday's hashes cannot be linked to
today's, and nobody without the secret key can test a guessed address against them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign import service as campaigns
from campaigns.nonprofits.actors import Actor
from campaigns.nonprofits.models import MemberRole
from campaigns.sharing import repository
from campaigns.sharing.models import ShareLink, ShareLinkKind

# Link previews, crawlers and monitors fetch share links without a person behind them.
_BOT = re.compile(
    r"bot|crawl|spider|slurp|preview|facebookexternalhit|embedly|whatsapp|telegram|discord|"
    r"vkshare|pinterest|bitlyshortener|curl|wget|python-requests|httpx|headless|monitor|lighthouse",
    re.IGNORECASE,
)
_CODE_BYTES = 6  # 8 URL-safe characters: 2**48 codes, far beyond what guessing can walk


class Channel(StrEnum):
    TIKTOK = "tiktok"
    INSTAGRAM = "instagram"
    EMAIL = "email"
    OTHER = "other"


@dataclass(frozen=True)
class VisitTarget:
    link_id: uuid.UUID
    campaign_id: uuid.UUID
    campaign_slug: str
    counted: bool


def is_bot(user_agent: str) -> bool:
    return not user_agent.strip() or _BOT.search(user_agent) is not None


def visit_window(now: datetime) -> datetime:
    """Visits are deduplicated per UTC day, the same period the visitor key rotates on."""
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def visitor_hash(secret_key: str, *, address: str, user_agent: str, now: datetime) -> str:
    day = visit_window(now).date().isoformat()
    daily_key = hmac.new(secret_key.encode(), f"share-visitor:{day}".encode(), hashlib.sha256).digest()
    return hmac.new(daily_key, f"{address}\n{user_agent}".encode(), hashlib.sha256).hexdigest()


def new_code() -> str:
    return secrets.token_urlsafe(_CODE_BYTES)


async def record_visit(
    session: AsyncSession, *, code: str, address: str, user_agent: str, secret_key: str, now: datetime
) -> VisitTarget | None:
    """Where the link leads, counting the visit once per visitor and day; bots are not counted."""
    found = await repository.get_link_and_slug(session, code)
    if found is None:
        return None
    link, slug = found
    counted = False
    if not is_bot(user_agent):
        digest = visitor_hash(secret_key, address=address, user_agent=user_agent, now=now)
        counted = await repository.insert_visit(
            session, share_link_id=link.id, visitor_hash=digest, window_start=visit_window(now)
        )
        if counted:
            await repository.count_visit(session, link.id)
    return VisitTarget(link_id=link.id, campaign_id=link.campaign_id, campaign_slug=slug, counted=counted)


async def create_channel_link(
    session: AsyncSession, *, actor: Actor, campaign_id: uuid.UUID, channel: Channel
) -> ShareLink:
    actor.require(MemberRole.EDITOR)
    campaign = await campaigns.get_campaign(session, actor=actor, campaign_id=campaign_id)
    while True:
        link_id = await repository.insert_link(
            session, campaign_id=campaign.id, code=new_code(), kind=ShareLinkKind.CHANNEL, channel=channel
        )
        if link_id is not None:
            link = await repository.get_link(session, link_id)
            assert link is not None
            return link


async def list_channel_links(
    session: AsyncSession, *, actor: Actor, campaign_id: uuid.UUID
) -> list[ShareLink]:
    campaign = await campaigns.get_campaign(session, actor=actor, campaign_id=campaign_id)
    return list(await repository.list_channel_links(session, campaign.id))


async def ensure_supporter_link(
    session: AsyncSession, *, campaign_id: uuid.UUID, donation_id: uuid.UUID
) -> ShareLink:
    """The donor's personal link: created once per donation, however often the page asks."""
    while True:
        await repository.insert_link(
            session,
            campaign_id=campaign_id,
            code=new_code(),
            kind=ShareLinkKind.SUPPORTER,
            donation_id=donation_id,
        )
        # Either ours, or the one a concurrent request inserted first; None only when the
        # random code collided with another link's, so draw again.
        link = await repository.get_link_for_donation(session, donation_id)
        if link is not None:
            return link


async def create_fundraiser_link(
    session: AsyncSession, *, campaign_id: uuid.UUID, owner_email_digest: str
) -> ShareLink:
    """A fundraiser's own link (campaigns.fundraising): the referrer of gifts through their page.
    `owner_email_digest` is the fundraiser's email identity key (matching.identity.email_key),
    which is how the referral policies find the fundraiser's donor cluster."""
    while True:
        link_id = await repository.insert_link(
            session,
            campaign_id=campaign_id,
            code=new_code(),
            kind=ShareLinkKind.FUNDRAISER,
            owner_email_digest=owner_email_digest,
        )
        if link_id is not None:
            link = await repository.get_link(session, link_id)
            assert link is not None
            return link


async def referral_link_id(
    session: AsyncSession, *, campaign_id: uuid.UUID, link_id: uuid.UUID | None, code: str | None
) -> uuid.UUID | None:
    """The share link that brought this donation, if it is a real link of this campaign."""
    link: ShareLink | None = None
    if link_id is not None:
        link = await repository.get_link(session, link_id)
    elif code:
        link = await repository.get_link_by_code(session, code)
    if link is None or link.campaign_id != campaign_id:
        return None
    return link.id
