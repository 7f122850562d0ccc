"""The match as its nonprofit sees it, for every package's edges and for the match facts
(campaigns.matching.announcements): the nonprofit API and the match.* events share one shape."""

from __future__ import annotations

from campaigns.matching import explain
from campaigns.matching.models import Match
from campaigns.matching.schemas import OwnMatchOut


def own_match_out(match: Match) -> OwnMatchOut:
    return OwnMatchOut(
        id=match.id,
        campaign_id=match.campaign_id,
        donation_id=match.donation_id,
        currency=match.currency,
        amount_minor=match.amount_minor,
        status=match.status,
        reason=explain.status_reason(match),
        can_appeal=explain.can_appeal(match),
        appeal_message=match.appeal_message,
        appealed_at=match.appealed_at,
        created_at=match.created_at,
        paid_at=match.paid_at,
    )
