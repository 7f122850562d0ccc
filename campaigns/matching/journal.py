"""Every match transition leaves an audit-log entry: who (a person or the system), what, before, after."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.matching.models import Match, MatchStatus
from campaigns.nonprofits.actors import Actor
from service import audit
from service.auth.models import Admin

_ENGINE = audit.SystemActor("matching engine")


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
    actor: audit.AuditActor = admin or member or _ENGINE
    session.add(
        audit.entry(
            actor=actor,
            action=action,
            subject_type="match",
            subject_id=str(match.id),
            nonprofit_id=match.nonprofit_id,
            before=before_state,
            after=after_state,
            note=note,
        )
    )
