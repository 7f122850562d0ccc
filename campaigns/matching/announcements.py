"""The match facts, announced by the use cases that move a match (lifecycle, engine), right after
the move and the fields it sets, so `data` is the match as it stands once decided:

    match.approved  match:{id}:approved:r{revision}:a{approvals}  enough approvals, or a clean hold end
    match.rejected  match:{id}:rejected:r{revision}  an admin rejected it
    match.voided    match:{id}:voided:r{revision}    a refund, dispute or ineligibility voided it
    match.paid      match:{id}:paid                  its transfer was confirmed

The state machine (campaigns/matching/status.py) refuses a second step to the same status, so a
replayed event or a repeated decision never reaches an announcement. The key still tells apart
the times one match may legitimately take a step again: an appeal starts a new revision (a
second approval or rejection), and approval after "new risk facts" sent an approved match back
to people counts one more approval in its round. `data` is OwnMatchOut, the nonprofit API's
shape (the admin's MatchOut holds risk signals about the donor that are not the nonprofit's).
"""

from __future__ import annotations

from campaigns import facts
from campaigns.matching.models import Match
from campaigns.matching.web import own_match_out
from service.unit_of_work import UnitOfWork


async def _announce(session: UnitOfWork, match: Match, fact_type: str, key: str) -> None:
    await facts.announce(
        session,
        facts.Fact(
            type=fact_type,
            key=key,
            nonprofit_id=match.nonprofit_id,
            subject_id=match.id,
            occurred_at=session.now(),
            data=own_match_out(match).model_dump(mode="json"),
        ),
    )


async def announce_approved(session: UnitOfWork, match: Match, *, approvals: int) -> None:
    """`approvals`: the admins' approvals in this decision round (0 when the hold ended clean)."""
    key = f"match:{match.id}:approved:r{match.revision}:a{approvals}"
    await _announce(session, match, facts.MATCH_APPROVED, key)


async def announce_voided(session: UnitOfWork, match: Match, *, rejected: bool) -> None:
    kind, fact_type = ("rejected", facts.MATCH_REJECTED) if rejected else ("voided", facts.MATCH_VOIDED)
    await _announce(session, match, fact_type, f"match:{match.id}:{kind}:r{match.revision}")


async def announce_paid(session: UnitOfWork, match: Match) -> None:
    await _announce(session, match, facts.MATCH_PAID, f"match:{match.id}:paid")
