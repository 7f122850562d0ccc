"""The wall of support: donors' names and messages on the campaign page, screened, hideable by
the nonprofit, reportable by anyone.

What the public may see of one gift is decided by `repository.Supporter` (one place, for the
page, the paged list and the live events). Here: the keyword screen at checkout (a flagged
name or message waits, `pending`, until the nonprofit shows it), the nonprofit's hide and show
(audit-logged like every member action) and a visitor's report, which joins the moderators'
report queue as a report on the campaign that names the donation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign import service as campaigns
from campaigns.campaign.errors import CampaignNotFound
from campaigns.campaign.models import Campaign
from campaigns.donations.models import SETTLED, Donation, MessageStatus
from campaigns.giving import repository
from campaigns.giving.availability import is_public
from campaigns.giving.repository import Supporter
from campaigns.moderation import screen
from campaigns.moderation.models import CampaignReport, ReportReason
from campaigns.nonprofits.actors import Actor
from campaigns.nonprofits.models import MemberRole
from service import audit
from service.errors import NotFound
from service.pagination import Cursor, newest_first, next_cursor
from service.ratelimit import Limit

PAGE_SIZE = 50
"""Gifts per page of the full list (public page and the nonprofit's messages page)."""

REPORT_MESSAGE_LIMIT_PER_CLIENT = Limit(
    name="report_message_client",
    max_hits=5,
    window=timedelta(hours=1),
    message="you have sent several reports in the last hour; thank you, we are looking at them",
)
"""Like the campaign report's limit: a flood from one network is an attack on the nonprofit's
attention, not information."""


class MessageNotFound(NotFound):
    code = "message_not_found"


def screened_status(*, name: str | None, message: str | None) -> MessageStatus:
    """Pending when the keyword screen flags the donor's name or message; shown otherwise."""
    text = _donor_words(name, message)
    return MessageStatus.PENDING if text and screen.screen(text) else MessageStatus.SHOWN


def _donor_words(name: str | None, message: str | None) -> str:
    """The donor's own words, as the keyword screen reads them: name and message, one a line."""
    return "\n".join(part for part in (name, message) if part)


@dataclass(frozen=True)
class WallPage:
    supporters: list[Supporter]
    next_cursor: str | None


async def wall_page(
    session: AsyncSession, *, campaign_id: uuid.UUID, limit: int, cursor: str | None
) -> WallPage:
    """One page of the public wall, newest first; `cursor` continues after the previous page."""
    before = Cursor.decode(cursor) if cursor else None
    rows = await repository.list_recent_supporters(session, campaign_id, limit=limit + 1, before=before)
    more = len(rows) > limit
    last = rows[limit - 1] if more else None
    token = (
        Cursor(created_at=last.created_at, id=last.donation_id).encode() if last and last.created_at else None
    )
    return WallPage(supporters=rows[:limit], next_cursor=token)


@dataclass(frozen=True)
class Message:
    """A gift with a name or message, as the nonprofit moderates it (with the screen's flags)."""

    supporter: Supporter
    flags: list[screen.ContentFlag]
    open_reports: int


@dataclass(frozen=True)
class MessagePage:
    messages: list[Message]
    next_cursor: str | None


async def list_messages(
    session: AsyncSession,
    *,
    actor: Actor,
    campaign_id: uuid.UUID,
    status: MessageStatus | None,
    limit: int,
    cursor: str | None,
) -> tuple[Campaign, MessagePage]:
    """The campaign's gifts that carry a name or message, newest first (tenant-scoped), with
    the campaign (so a page need not load it again)."""
    campaign = await campaigns.get_campaign(session, actor=actor, campaign_id=campaign_id)
    before = Cursor.decode(cursor) if cursor else None
    donations = await _message_donations(session, campaign_id, status=status, limit=limit + 1, before=before)
    reports = await _open_report_counts(session, [d.id for d in donations[:limit]])
    messages = [
        Message(
            supporter=Supporter.of(d),
            flags=screen.screen(_donor_words(d.donor_name, d.message)),
            open_reports=reports.get(d.id, 0),
        )
        for d in donations[:limit]
    ]
    return campaign, MessagePage(messages=messages, next_cursor=next_cursor(donations, limit))


async def _message_donations(
    session: AsyncSession,
    campaign_id: uuid.UUID,
    *,
    status: MessageStatus | None,
    limit: int,
    before: Cursor | None,
) -> list[Donation]:
    query = sa.select(Donation).where(
        Donation.campaign_id == campaign_id,
        Donation.status.in_(SETTLED),
        sa.or_(Donation.message.is_not(None), Donation.donor_name.is_not(None)),
    )
    if status is not None:
        query = query.where(Donation.message_status == status)
    query = newest_first(query, Donation.created_at, Donation.id, before).limit(limit)
    return list((await session.scalars(query)).all())


async def _open_report_counts(session: AsyncSession, donation_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not donation_ids:
        return {}
    rows = await session.execute(
        sa.select(CampaignReport.donation_id, sa.func.count())
        .where(CampaignReport.donation_id.in_(donation_ids), CampaignReport.resolved_at.is_(None))
        .group_by(CampaignReport.donation_id)
    )
    return {donation_id: int(n) for donation_id, n in rows.all() if donation_id is not None}


async def set_message_status(
    session: AsyncSession,
    *,
    actor: Actor,
    campaign_id: uuid.UUID,
    donation_id: uuid.UUID,
    show: bool,
) -> Message:
    """Hide or show one gift's name and message on the wall (editors and owners)."""
    actor.require(MemberRole.EDITOR)
    campaign = await campaigns.get_campaign(session, actor=actor, campaign_id=campaign_id)
    donation = await session.scalar(
        sa.select(Donation)
        .where(Donation.id == donation_id, Donation.campaign_id == campaign.id)
        .with_for_update()
    )
    if donation is None:
        raise MessageNotFound("no such donation on this campaign")
    before = donation.message_status
    donation.message_status = MessageStatus.SHOWN if show else MessageStatus.HIDDEN
    if before is not donation.message_status:
        await audit.record(
            session,
            actor=actor,
            action="donation.message_shown" if show else "donation.message_hidden",
            subject_type="donation",
            subject_id=str(donation.id),
            nonprofit_id=campaign.nonprofit_id,
            before={"message_status": before.value},
            after={"message_status": donation.message_status.value},
        )
    reports = await _open_report_counts(session, [donation.id])
    flags = screen.screen(_donor_words(donation.donor_name, donation.message))
    return Message(supporter=Supporter.of(donation), flags=flags, open_reports=reports.get(donation.id, 0))


async def reportable_supporter(
    session: AsyncSession, *, slug: str, donation_id: uuid.UUID
) -> tuple[Supporter, Donation]:
    """The public wall entry a visitor wants to report, and its donation; only what the wall
    shows is reportable (words of the donor's own: `Supporter.reportable`, as the page's
    Report link)."""
    found = await repository.get_campaign_with_nonprofit(session, slug)
    if found is None or not is_public(found[0]):
        raise CampaignNotFound("no such campaign")
    donation = await session.get(Donation, donation_id)
    if (
        donation is None
        or donation.campaign_id != found[0].id
        or donation.status not in SETTLED
        or donation.message_status is not MessageStatus.SHOWN
    ):
        raise MessageNotFound("no such message")
    supporter = Supporter.of(donation)
    if not supporter.reportable:
        raise MessageNotFound("no such message")
    return supporter, donation


async def report_message(
    session: AsyncSession,
    *,
    slug: str,
    donation_id: uuid.UUID,
    reason: ReportReason,
    message: str,
    reporter_email: str | None,
    client_hash: str | None,
) -> CampaignReport:
    """A visitor's report about one message: a campaign report naming the donation, so it
    reaches the moderators' queue and the nonprofit's messages page."""
    _, donation = await reportable_supporter(session, slug=slug, donation_id=donation_id)
    report = CampaignReport(
        campaign_id=donation.campaign_id,
        donation_id=donation.id,
        reason=reason,
        message=message,
        reporter_email=reporter_email,
        client_hash=client_hash,
    )
    session.add(report)
    await session.flush()
    return report
