"""Builders for the review console tests: held matches made the real way (signed webhooks, the
risk signals as configured, the hold ending), and a few reads of what the pages changed."""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa

from campaigns.matching import lifecycle, risk_settings
from campaigns.matching.models import Match
from campaigns.nonprofits.models import Member
from service.audit import AuditEntry
from service.auth.models import Admin, AdminRole
from service.db import Database, utcnow
from tests.builders import insert_admin
from tests.campaigns.matching.helpers import World, give, only_match
from tests.webhooks.builders import LiveCampaign


async def end_holds(world: World) -> None:
    async with world.database.transaction() as session:
        await lifecycle.release_due_matches(session, now=utcnow() + timedelta(seconds=1))


async def tune_signal(
    world: World, code: str, *, weight: int | None = None, threshold: int | None = None
) -> None:
    """Change a risk signal through its service, as a superadmin on the risk page would."""
    superadmin = await insert_admin(world.database, role=AdminRole.SUPERADMIN)
    async with world.database.transaction() as session:
        admin = await session.get(Admin, superadmin.id)
        assert admin is not None
        current = (await risk_settings.load(session)).settings[code]
        await risk_settings.update(
            session,
            admin=admin,
            code=code,
            weight=current.weight if weight is None else weight,
            threshold=current.threshold if threshold is None else threshold,
            enabled=True,
        )


async def held_gift(
    world: World,
    *,
    amount_minor: int = 2_500,
    email: str | None = None,
    fingerprint: str | None = None,
    device: str | None = None,
    network: str | None = None,
    campaign: LiveCampaign | None = None,
    referral_link_id: uuid.UUID | None = None,
) -> Match:
    """A gift whose match is reserved (hold ends later, via end_holds)."""
    payment = await give(
        world,
        amount_minor=amount_minor,
        email=email,
        fingerprint=fingerprint,
        device=device,
        network=network,
        campaign=campaign,
        referral_link_id=referral_link_id,
    )
    return await only_match(world.database, payment)


async def reload_match(database: Database, match_id: uuid.UUID) -> Match:
    async with database.transaction() as session:
        found = await session.get(Match, match_id)
    assert found is not None
    return found


async def backdate(database: Database, match_id: uuid.UUID, *, days: int) -> None:
    """Make a match look older: the queue's age filter reads created_at."""
    async with database.transaction() as session:
        await session.execute(
            sa.update(Match).where(Match.id == match_id).values(created_at=utcnow() - timedelta(days=days))
        )


async def member_email(database: Database, nonprofit_id: uuid.UUID) -> str:
    async with database.transaction() as session:
        email = await session.scalar(
            sa.select(Member.email).where(Member.nonprofit_id == nonprofit_id).limit(1)
        )
    assert email is not None
    return email


async def audit_actions(database: Database, *, subject_id: str) -> list[tuple[str, str, str | None]]:
    """(action, actor label, note) of a subject's audit entries, oldest first."""
    async with database.transaction() as session:
        rows = await session.execute(
            sa.select(AuditEntry.action, AuditEntry.actor_label, AuditEntry.note)
            .where(AuditEntry.subject_id == subject_id)
            .order_by(AuditEntry.created_at, AuditEntry.id)
        )
        return [(action, label, note) for action, label, note in rows]


def created_before(match: Match, other: Match) -> bool:
    return (match.created_at, match.id) < (other.created_at, other.id)


def ids_in(page: str, matches: list[Match]) -> set[uuid.UUID]:
    """Which of these matches have a row in the queue page."""
    return {m.id for m in matches if f'id="match-{m.id}"' in page}
