"""Every match transition leaves an audit-log entry: who (a person or the system), what, before, after."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.matching.models import Match, MatchStatus
from campaigns.nonprofits.actors import Actor
from service import audit
from service.audit import ActorType
from service.auth.models import Admin


def note(
    session: AsyncSession,
    match: Match,
    *,
    action: str,
    before: MatchStatus | None,
    note: str | None = None,
    admin: Admin | None = None,
    member: Actor | None = None,
    extra_before: dict[str, Any] | None = None,
    extra_after: dict[str, Any] | None = None,
) -> None:
    """Record a transition; entries ride along with the caller's next flush (no round trip each)."""
    before_state = None if before is None else {"status": str(before), **(extra_before or {})}
    after_state = {"status": str(match.status), "amount_minor": match.amount_minor, **(extra_after or {})}
    if admin is not None:
        actor_type, actor_id, label = ActorType.ADMIN, str(admin.id), admin.email
    elif member is not None:
        actor_type, actor_id, label = member.actor_type, member.actor_id, member.label
    else:
        actor_type, actor_id, label = ActorType.SYSTEM, None, "matching engine"
    session.add(
        audit.AuditEntry(
            actor_type=actor_type,
            actor_id=actor_id,
            actor_label=label,
            action=action,
            subject_type="match",
            subject_id=str(match.id),
            nonprofit_id=match.nonprofit_id,
            before=before_state,
            after=after_state,
            note=note,
        )
    )
