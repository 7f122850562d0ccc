"""What a nonprofit reads about its matches: the status and the reason, in plain words.

Risk signals are deliberately not spelled out to the nonprofit: naming the exact tell
(which card, which network) would teach a ring how to hide. The reviewer's note is shown,
since it is written to be read by the nonprofit.
"""

from __future__ import annotations

from campaigns.matching.eligibility import REASONS
from campaigns.matching.models import Match, MatchStatus

_STATUS = {
    MatchStatus.PENDING: "Reserved for you; it waits out its hold period before it is approved.",
    MatchStatus.HELD_FOR_REVIEW: "A Goodloop reviewer is looking at it before it can be paid.",
    MatchStatus.APPROVED: "Approved; it will be paid to your connected Stripe account.",
    MatchStatus.PAID: "Paid to your connected Stripe account.",
}
_VOIDED = {
    "refunded": "The donation was refunded, so its match was released.",
    "disputed": "The donation was disputed, so its match was released.",
    **REASONS,
}


def status_reason(match: Match) -> str:
    if match.status is not MatchStatus.VOIDED:
        sentence = _STATUS[match.status]
        if match.status is MatchStatus.HELD_FOR_REVIEW and match.appealed_at is not None:
            return "Your appeal returned it to review; a Goodloop reviewer will decide again."
        return sentence
    if match.void_reason == "rejected":
        note = f" The reviewer wrote: {match.decision_note}" if match.decision_note else ""
        return "A Goodloop reviewer rejected this match." + note
    return _VOIDED.get(match.void_reason or "", "The match was released.")


def can_appeal(match: Match) -> bool:
    return (
        match.status is MatchStatus.VOIDED and match.void_reason == "rejected" and match.appealed_at is None
    )
