"""Campaign updates: short news a nonprofit posts on its campaign page ("we bought the first
100 coats"), newest first.

The body is Markdown, rendered and sanitised once at write time by the story's renderer
(`campaign.story.render_story`: no raw HTML, no scripts, only http(s) and mailto links). The
keyword screen reads each update as it reads stories: a flagged update is `held` (kept off the
page) and the nonprofit is told which phrases a moderator will look at. The campaign page is
cached for a few seconds (`public_page_ttl_s`) and there is no cross-process invalidation, so a
new update appears once that short TTL has passed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign import service as campaigns
from campaigns.campaign.errors import CampaignNotFound
from campaigns.campaign.models import Campaign, CampaignStatus
from campaigns.campaign.story import render_story
from campaigns.giving.availability import is_public
from campaigns.giving.models import CampaignUpdate, UpdateStatus
from campaigns.moderation import screen
from campaigns.nonprofits.actors import Actor
from campaigns.nonprofits.models import MemberRole
from service import audit
from service.auth.models import Admin
from service.errors import Conflict, NotFound
from service.pagination import Cursor, newest_first, next_cursor

ON_CAMPAIGN_PAGE = 3
"""Updates on the campaign page; the rest are a link away."""


class UpdateNotFound(NotFound):
    code = "update_not_found"


class CampaignArchived(Conflict):
    code = "campaign_archived"


@dataclass(frozen=True)
class UpdatePage:
    updates: list[CampaignUpdate]
    next_cursor: str | None


async def post_update(
    session: AsyncSession, *, actor: Actor, campaign_id: uuid.UUID, title: str | None, body: str
) -> tuple[CampaignUpdate, list[screen.ContentFlag]]:
    """An editor's update, published at once unless the keyword screen flags it (then held)."""
    actor.require(MemberRole.EDITOR)
    campaign = await campaigns.get_campaign(session, actor=actor, campaign_id=campaign_id)
    if campaign.status is CampaignStatus.ARCHIVED:
        raise CampaignArchived("an archived campaign takes no updates")
    flags = screen.screen(f"{title or ''}\n{body}")
    update = CampaignUpdate(
        id=uuid.uuid4(),
        campaign_id=campaign.id,
        nonprofit_id=campaign.nonprofit_id,
        title=title or None,
        body_markdown=body,
        body_html=render_story(body),
        status=UpdateStatus.HELD if flags else UpdateStatus.PUBLISHED,
        flags=[f.term for f in flags],
    )
    session.add(update)
    await session.flush()
    await _audit(session, actor, "campaign_update.post", update)
    return update, flags


async def delete_update(
    session: AsyncSession, *, actor: Actor, campaign_id: uuid.UUID, update_id: uuid.UUID
) -> None:
    actor.require(MemberRole.EDITOR)
    await campaigns.get_campaign(session, actor=actor, campaign_id=campaign_id)
    update = await session.scalar(
        sa.select(CampaignUpdate).where(
            CampaignUpdate.id == update_id, CampaignUpdate.campaign_id == campaign_id
        )
    )
    if update is None:
        raise UpdateNotFound("no such update on this campaign")
    await _audit(session, actor, "campaign_update.delete", update)
    await session.delete(update)
    await session.flush()


async def list_updates(
    session: AsyncSession, *, actor: Actor, campaign_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[Campaign, UpdatePage]:
    """Every update of one of the actor's campaigns, held ones included, newest first, with
    the campaign (so a page need not load it again)."""
    campaign = await campaigns.get_campaign(session, actor=actor, campaign_id=campaign_id)
    page = await _page(session, campaign_id, statuses=tuple(UpdateStatus), limit=limit, cursor=cursor)
    return campaign, page


async def public_updates(
    session: AsyncSession, *, slug: str, limit: int, cursor: str | None
) -> tuple[Campaign, UpdatePage]:
    """A public campaign's published updates, newest first."""
    campaign = await session.scalar(sa.select(Campaign).where(Campaign.slug == slug))
    if campaign is None or not is_public(campaign):
        raise CampaignNotFound("no such campaign")
    page = await _page(session, campaign.id, statuses=(UpdateStatus.PUBLISHED,), limit=limit, cursor=cursor)
    return campaign, page


async def latest_updates(session: AsyncSession, campaign_id: uuid.UUID) -> UpdatePage:
    """For the campaign page: the newest few published updates, and whether there are more."""
    return await _page(
        session, campaign_id, statuses=(UpdateStatus.PUBLISHED,), limit=ON_CAMPAIGN_PAGE, cursor=None
    )


async def list_held_updates(session: AsyncSession, *, limit: int, cursor: str | None) -> UpdatePage:
    """Updates the keyword screen held, across every campaign, for moderators; newest first."""
    query = sa.select(CampaignUpdate).where(CampaignUpdate.status == UpdateStatus.HELD)
    return await _paged(session, query, limit=limit, cursor=cursor)


async def publish_update(
    session: AsyncSession, *, admin: Admin, update_id: uuid.UUID, note: str | None
) -> CampaignUpdate:
    """A moderator looked at a held update and lets it onto the campaign page."""
    update = await session.scalar(
        sa.select(CampaignUpdate).where(CampaignUpdate.id == update_id).with_for_update()
    )
    if update is None:
        raise UpdateNotFound("no such update")
    if update.status is not UpdateStatus.PUBLISHED:
        update.status = UpdateStatus.PUBLISHED
        await audit.record(
            session,
            actor=admin,
            action="campaign_update.publish",
            subject_type="campaign_update",
            subject_id=str(update.id),
            nonprofit_id=update.nonprofit_id,
            before={"status": UpdateStatus.HELD.value},
            after={"status": UpdateStatus.PUBLISHED.value, "flags": list(update.flags)},
            note=note,
        )
    return update


async def _page(
    session: AsyncSession,
    campaign_id: uuid.UUID,
    *,
    statuses: tuple[UpdateStatus, ...],
    limit: int,
    cursor: str | None,
) -> UpdatePage:
    query = sa.select(CampaignUpdate).where(
        CampaignUpdate.campaign_id == campaign_id, CampaignUpdate.status.in_(statuses)
    )
    return await _paged(session, query, limit=limit, cursor=cursor)


async def _paged(
    session: AsyncSession, query: sa.Select[CampaignUpdate], *, limit: int, cursor: str | None
) -> UpdatePage:
    before = Cursor.decode(cursor) if cursor else None
    query = newest_first(query, CampaignUpdate.created_at, CampaignUpdate.id, before).limit(limit + 1)
    rows = list((await session.scalars(query)).all())
    return UpdatePage(updates=rows[:limit], next_cursor=next_cursor(rows, limit))


async def _audit(session: AsyncSession, actor: Actor, action: str, update: CampaignUpdate) -> None:
    await audit.record(
        session,
        actor=actor,
        action=action,
        subject_type="campaign_update",
        subject_id=str(update.id),
        nonprofit_id=update.nonprofit_id,
        after={
            "campaign_id": str(update.campaign_id),
            "title": update.title,
            "status": update.status.value,
            "flags": list(update.flags),
        },
    )
