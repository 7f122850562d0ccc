"""What each member asked to hear, and who hears a given kind of email.

Defaults, for a member who never changed anything: the daily digest (one email a day at most,
never an empty one: a busy campaign must not bury someone under an email per gift unless they
asked for it), payout and match decision emails on (they are about the organisation's money),
and the language of the organisation's country (`nl` for the Netherlands, else `en`); each
member changes them on the dashboard's Notifications page, or an owner's API key through
`/api/v1/members/{id}/notifications`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.nonprofits.actors import Actor
from campaigns.nonprofits.models import Member, MemberRole, Nonprofit
from campaigns.notifications.models import GiftEmails, MemberNotificationSettings
from service import audit
from service.db import insert_for
from service.errors import NotFound
from service.unit_of_work import UnitOfWork

DEFAULT_GIFT_EMAILS = GiftEmails.DAILY
_COUNTRY_LANGUAGES = {"NL": "nl"}


class MemberNotFound(NotFound):
    code = "member_not_found"


def default_language(country: str) -> str:
    """The language of a member who has not chosen one: the organisation's country's."""
    return _COUNTRY_LANGUAGES.get(country.upper(), "en")


@dataclass(frozen=True)
class Preferences:
    gift_emails: GiftEmails
    money_emails: bool
    language: str
    chosen: bool
    """False while the member has the defaults."""


@dataclass(frozen=True)
class Recipient:
    member_id: uuid.UUID
    email: str
    language: str
    gift_emails: GiftEmails
    money_emails: bool


def _preferences(row: MemberNotificationSettings | None, country: str) -> Preferences:
    if row is None:
        return Preferences(DEFAULT_GIFT_EMAILS, True, default_language(country), chosen=False)
    return Preferences(row.gift_emails, row.money_emails, row.language, chosen=True)


async def recipients(session: AsyncSession, *, nonprofit_id: uuid.UUID) -> list[Recipient]:
    """Every member of the organisation with what they asked to hear, oldest member first."""
    rows = await session.execute(
        sa.select(Member, MemberNotificationSettings, Nonprofit.country)
        .join(Nonprofit, Nonprofit.id == Member.nonprofit_id)
        .outerjoin(MemberNotificationSettings, MemberNotificationSettings.member_id == Member.id)
        .where(Member.nonprofit_id == nonprofit_id)
        .order_by(Member.created_at, Member.id)
    )
    found = []
    for member, settings, country in rows:
        prefs = _preferences(settings, country)
        found.append(
            Recipient(member.id, member.email, prefs.language, prefs.gift_emails, prefs.money_emails)
        )
    return found


async def language_of(session: AsyncSession, member: Member) -> str:
    """The language a member reads their email in: their choice, else their country's."""
    chosen = await session.get(MemberNotificationSettings, member.id)
    if chosen is not None:
        return chosen.language
    nonprofit = await session.get(Nonprofit, member.nonprofit_id)
    return default_language(nonprofit.country if nonprofit is not None else "")


async def _member_in(session: AsyncSession, actor: Actor, member_id: uuid.UUID) -> tuple[Member, str]:
    """The member and their organisation's country, only within the actor's organisation."""
    row = (
        await session.execute(
            sa.select(Member, Nonprofit.country)
            .join(Nonprofit, Nonprofit.id == Member.nonprofit_id)
            .where(Member.id == member_id, Member.nonprofit_id == actor.nonprofit_id)
        )
    ).first()
    if row is None:
        # Another organisation's member is as unknown as one that never existed.
        raise MemberNotFound("no such member in your organisation")
    return row[0], row[1]


async def get_preferences(session: AsyncSession, *, actor: Actor, member_id: uuid.UUID) -> Preferences:
    _, country = await _member_in(session, actor, member_id)
    return _preferences(await session.get(MemberNotificationSettings, member_id), country)


async def save_preferences(
    session: UnitOfWork,
    *,
    actor: Actor,
    member_id: uuid.UUID,
    gift_emails: GiftEmails,
    money_emails: bool,
    language: str,
) -> Preferences:
    """Set a member's choices: their own, or any member's for an owner (or an owner's API key)."""
    if actor.member_id != member_id:
        actor.require(MemberRole.OWNER)
    _, country = await _member_in(session, actor, member_id)
    row = await session.get(MemberNotificationSettings, member_id)
    before = _preferences(row, country)
    if row is None:
        # Two first saves at once: the second waits for the first and changes its row.
        await session.execute(
            insert_for(session, MemberNotificationSettings)
            .values(
                member_id=member_id,
                gift_emails=before.gift_emails,
                money_emails=before.money_emails,
                language=before.language,
                updated_at=session.now(),
            )
            .on_conflict_do_nothing(index_elements=["member_id"])
        )
        row = await session.get(MemberNotificationSettings, member_id)
        assert row is not None
    row.gift_emails = gift_emails
    row.money_emails = money_emails
    row.language = language
    after = Preferences(gift_emails, money_emails, language, chosen=True)
    await audit.record(
        session,
        actor=actor,
        action="member.notifications_changed",
        subject_type="member",
        subject_id=str(member_id),
        nonprofit_id=actor.nonprofit_id,
        before=_summary(before),
        after=_summary(after),
    )
    return after


def _summary(prefs: Preferences) -> dict[str, object]:
    return {
        "gift_emails": prefs.gift_emails.value,
        "money_emails": prefs.money_emails,
        "language": prefs.language,
    }
