"""The daily digest: once a day, each member who chose it hears about the day's gifts.

The day is the organisation's own (its country's time zone: Europe/Amsterdam for NL; for a
country spanning several zones, the one named in ZONE_OVERRIDES, else UTC). From DIGEST_HOUR
in the morning the worker job `send_member_digests` makes each member's digest of yesterday:
one `member_digests` row per member and day (PRIMARY KEY (member_id, day)), written also for a
day without gifts, when no email goes out, and the outbox key `digest:{member}:{day}`; so a
day is summed up once however often the job runs, on however many workers. A gift counts on the
day it was confirmed (`donations.confirmed_at`); the hours before DIGEST_HOUR leave any late
commit of yesterday's gifts long done. A day the worker missed entirely is not made up for
(the digest is news, not a ledger: the dashboard has every gift).
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from babel.core import get_global
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign
from campaigns.donations.models import Donation
from campaigns.nonprofits.models import Member, Nonprofit
from campaigns.notifications.listener import AREA, Gift
from campaigns.notifications.models import GiftEmails, MemberDigest, MemberNotificationSettings
from campaigns.notifications.preferences import DEFAULT_GIFT_EMAILS, default_language
from service.db import Database, insert_for
from service.mail.compose import compose
from service.mail.outbox import enqueue
from service.unit_of_work import UnitOfWork
from service.worker import Job

DIGEST_HOUR = 7
"""Local hour from which yesterday's digest goes out."""
LISTED_GIFTS = 50
"""Gifts a digest lists one by one; the rest are counted ("... and 12 more gifts")."""
MEMBERS_PER_RUN = 100
ZONE_OVERRIDES = {
    "US": "America/New_York",
    "CA": "America/Toronto",
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "MX": "America/Mexico_City",
    "RU": "Europe/Moscow",
    "ES": "Europe/Madrid",
    "PT": "Europe/Lisbon",
    "NZ": "Pacific/Auckland",
    "ID": "Asia/Jakarta",
}
"""Countries with several time zones: the one their organisations most likely keep."""


@functools.cache
def zone_for(country: str) -> ZoneInfo:
    """The organisation's time zone, from its country (UTC when unknown or ambiguous)."""
    name = ZONE_OVERRIDES.get(country.upper())
    if name is None:
        zones = get_global("territory_zones").get(country.upper(), [])
        name = zones[0] if len(zones) == 1 else "UTC"
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        return ZoneInfo("UTC")


def due_day(now: datetime, zone: ZoneInfo) -> date:
    """The latest day whose digest may go out at `now`: yesterday once it is DIGEST_HOUR there."""
    local = now.astimezone(zone)
    days_back = 1 if local.hour >= DIGEST_HOUR else 2
    return local.date() - timedelta(days=days_back)


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The day's start and end (exclusive) as UTC instants (23 or 25 hours on a DST change)."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


@dataclass(frozen=True)
class Subscriber:
    member_id: uuid.UUID
    email: str
    language: str
    nonprofit_id: uuid.UUID
    nonprofit_name: str
    day: date
    zone: ZoneInfo


@dataclass(frozen=True)
class Total:
    currency: str
    amount_minor: int


@dataclass(frozen=True)
class DayOfGifts:
    count: int
    totals: list[Total]
    listed: list[Gift]


async def send_due_digests(session: UnitOfWork) -> int:
    """Make up to MEMBERS_PER_RUN due digests (an email each, unless their day had no gifts)."""
    due = await _due_subscribers(session, session.now())
    days: dict[tuple[uuid.UUID, date], DayOfGifts] = {}
    for subscriber in due[:MEMBERS_PER_RUN]:
        key = (subscriber.nonprofit_id, subscriber.day)
        if key not in days:
            days[key] = await gifts_of_day(session, subscriber.nonprofit_id, subscriber.day, subscriber.zone)
        await _digest(session, subscriber, days[key])
    return min(len(due), MEMBERS_PER_RUN)


async def _digest(session: UnitOfWork, subscriber: Subscriber, gifts: DayOfGifts) -> None:
    made = await session.scalar(
        insert_for(session, MemberDigest)
        .values(
            member_id=subscriber.member_id,
            day=subscriber.day,
            gift_count=gifts.count,
            created_at=session.now(),
        )
        .on_conflict_do_nothing(index_elements=["member_id", "day"])
        .returning(MemberDigest.day)
    )
    # Another worker made it first, or the day had no gifts: nothing to send.
    if made is None or gifts.count == 0:
        return
    rendered = compose(
        AREA,
        "digest",
        language=subscriber.language,
        day=subscriber.day,
        nonprofit_name=subscriber.nonprofit_name,
        count=gifts.count,
        totals=gifts.totals,
        gifts=gifts.listed,
        more=gifts.count - len(gifts.listed),
    )
    await enqueue(
        session,
        key=f"digest:{subscriber.member_id}:{subscriber.day.isoformat()}",
        email=rendered.email(to=subscriber.email),
    )


async def _due_subscribers(session: AsyncSession, now: datetime) -> list[Subscriber]:
    """Members on the daily digest whose organisation's due day has no digest of theirs yet."""
    rows = await session.execute(
        sa.select(
            Member.id,
            Member.email,
            Nonprofit.id,
            Nonprofit.name,
            Nonprofit.country,
            MemberNotificationSettings.language,
        )
        .join(Nonprofit, Nonprofit.id == Member.nonprofit_id)
        .outerjoin(MemberNotificationSettings, MemberNotificationSettings.member_id == Member.id)
        .where(
            sa.func.coalesce(MemberNotificationSettings.gift_emails, DEFAULT_GIFT_EMAILS.value)
            == GiftEmails.DAILY.value
        )
        .order_by(Member.id)
    )
    candidates = []
    for member_id, email, nonprofit_id, name, country, language in rows:
        zone = zone_for(country)
        language = language or default_language(country)
        day = due_day(now, zone)
        candidates.append(Subscriber(member_id, email, language, nonprofit_id, name, day, zone))
    # Every zone's due day lies within three days of UTC's today.
    recent = now.astimezone(UTC).date() - timedelta(days=3)
    made = await session.execute(
        sa.select(MemberDigest.member_id, MemberDigest.day).where(MemberDigest.day >= recent)
    )
    done = {(member_id, day) for member_id, day in made}
    return [s for s in candidates if (s.member_id, s.day) not in done]


async def gifts_of_day(
    session: AsyncSession, nonprofit_id: uuid.UUID, day: date, zone: ZoneInfo
) -> DayOfGifts:
    """The organisation's gifts confirmed on `day` (its own day): count, totals per currency, a list."""
    start, end = day_bounds(day, zone)
    in_day = sa.and_(
        Donation.nonprofit_id == nonprofit_id,
        Donation.confirmed_at >= start,
        Donation.confirmed_at < end,
    )
    sums = await session.execute(
        sa.select(Donation.currency, sa.func.count(), sa.func.sum(Donation.amount_minor))
        .where(in_day)
        .group_by(Donation.currency)
        .order_by(Donation.currency)
    )
    totals: list[Total] = []
    count = 0
    for currency, n, total in sums:
        count += int(n)
        totals.append(Total(currency, int(total or 0)))
    if count == 0:
        return DayOfGifts(0, [], [])
    listed = await session.execute(
        sa.select(Donation, Campaign.title)
        .join(Campaign, Campaign.id == Donation.campaign_id)
        .where(in_day)
        .order_by(Donation.confirmed_at, Donation.id)
        .limit(LISTED_GIFTS)
    )
    gifts = [Gift.of(donation, title) for donation, title in listed]
    return DayOfGifts(count, totals, gifts)


async def send_member_digests(database: Database) -> int:
    async with database.transaction() as session:
        return await send_due_digests(session)


JOB = Job("send_member_digests", send_member_digests, timedelta(minutes=5))
