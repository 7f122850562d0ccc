"""The match state machine: the one place a match's status changes.

    pending --(hold ends, no signal)--> approved --(payout)--> paid
    pending --(hold ends, signals)--> held_for_review --(approve)--> approved
    approved --(new risk facts before the payout)--> held_for_review
    pending | held_for_review | approved --(reject, refund, dispute)--> voided
    voided (rejected) --(the nonprofit appeals, once)--> held_for_review

A match is born pending (engine). Everything else goes through `move`, which refuses an edge
not in `EDGES`; tests/campaigns/matching/test_status.py checks that no other module assigns
a match's status. What a transition does to the pool, the ledger and the audit log stays with
its use case (lifecycle, engine); this module only decides whether the step is allowed.
"""

from __future__ import annotations

from campaigns.matching.errors import IllegalMatchTransition
from campaigns.matching.models import Match, MatchStatus

EDGES: dict[MatchStatus, frozenset[MatchStatus]] = {
    MatchStatus.PENDING: frozenset({MatchStatus.HELD_FOR_REVIEW, MatchStatus.APPROVED, MatchStatus.VOIDED}),
    MatchStatus.HELD_FOR_REVIEW: frozenset({MatchStatus.APPROVED, MatchStatus.VOIDED}),
    # Back to people when new risk facts arrive before the payout (engine.on_facts_changed).
    MatchStatus.APPROVED: frozenset({MatchStatus.PAID, MatchStatus.VOIDED, MatchStatus.HELD_FOR_REVIEW}),
    MatchStatus.PAID: frozenset(),
    # Only a rejected match, only through the nonprofit's one appeal (lifecycle.appeal_match).
    MatchStatus.VOIDED: frozenset({MatchStatus.HELD_FOR_REVIEW}),
}


def check_transition(match: Match, target: MatchStatus) -> None:
    """Refuse (409, illegal_match_transition) a step that is not an edge of the machine."""
    if target not in EDGES[match.status]:
        raise IllegalMatchTransition(f"a {match.status} match cannot become {target}")


def move(match: Match, target: MatchStatus) -> MatchStatus:
    """Move the match along one edge; returns the status it had (for the audit entry)."""
    check_transition(match, target)
    before = match.status
    match.status = target
    return before
