"""A member changes their own password; every other session of theirs ends with the old one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.nonprofits.actors import Actor
from campaigns.nonprofits.models import Member
from service import audit
from service.auth.models import SessionKind
from service.auth.secrets import hash_password_async, password_problem, verify_password_async
from service.auth.sessions import revoke_subject_sessions
from service.errors import ValidationFailed


async def change_member_password(
    session: AsyncSession,
    *,
    actor: Actor,
    current_password: str,
    new_password: str,
    keep_session_token: str | None,
    now: datetime,
) -> int:
    """Set a new password and end the member's other sessions; returns how many ended.

    The current password is asked again: a borrowed, still signed-in browser must not be
    enough to take the account over. The session the change comes from stays signed in.
    """
    member = await session.get(Member, actor.member_id) if actor.member_id is not None else None
    if member is None:
        raise ValidationFailed({"form": "only a signed-in member can change their password"})
    if not await verify_password_async(member.password_hash, current_password):
        raise ValidationFailed({"current_password": "that is not your current password"})
    problem = password_problem(new_password)
    if problem is not None:
        raise ValidationFailed({"new_password": problem})
    member.password_hash = await hash_password_async(new_password)
    ended = await revoke_subject_sessions(
        session, kind=SessionKind.MEMBER, subject_id=member.id, now=now, keep_token=keep_session_token
    )
    await audit.record(
        session,
        actor=actor,
        action="member.password_changed",
        subject_type="member",
        subject_id=str(member.id),
        nonprofit_id=member.nonprofit_id,
        after={"other_sessions_ended": ended},
    )
    return ended
