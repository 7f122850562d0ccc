"""A campaign's progress as donors see it, and the matches a gift earned, in words.

`campaign_progress` is the one reading of a campaign's numbers (raised, matched, total,
percent, donors, deadline) that the campaign page, the live events and the public API all
use, so the three never disagree. It reads only the campaign row's stored totals
(Campaign.raised_minor, donor_count, matched_minor; which matches count as matched:
campaigns.matching.totals). Money stays in integer minor units; percentages are floored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign
from campaigns.matching.challenges import ChallengeProgress
from campaigns.matching.models import Match, MatchingProgram, MatchQuote, MatchStatus
from service.money import format_money


@dataclass(frozen=True)
class CampaignProgress:
    currency: str
    goal_minor: int
    raised_minor: int
    """Donors' own money (settled donations less refunds)."""
    matched_minor: int
    """Match money on top: pending, held for review, approved or paid, net of clawbacks."""
    total_minor: int
    donors_count: int
    percent: int
    """Of the goal, from raised plus matched, floored and capped at 100 (integer arithmetic)."""
    ends_at: datetime | None

    @property
    def bar_value(self) -> int:
        """The <progress> element's value: the total, never past the goal."""
        return min(self.total_minor, self.goal_minor)


def progress_texts(progress: CampaignProgress) -> dict[str, str]:
    """What each element of the progress block shows (giving/_progress.html), by payload key.

    The live events send these so the page's script never formats money or plurals:
    #raised <- raised_text, #matched <- matched_text, #total <- total_text,
    #percent <- percent_text, #donor-count <- donors_text.
    """
    donors = progress.donors_count
    return {
        "raised_text": format_money(progress.raised_minor, progress.currency),
        "matched_text": format_money(progress.matched_minor, progress.currency),
        "total_text": format_money(progress.total_minor, progress.currency),
        "percent_text": f"{progress.percent}%",
        "donors_text": f"{donors:,} donor" if donors == 1 else f"{donors:,} donors",
    }


def campaign_progress(campaign: Campaign) -> CampaignProgress:
    raised = campaign.raised_minor
    matched = campaign.matched_minor or 0  # None on a row built in memory and not yet flushed
    total = raised + matched
    return CampaignProgress(
        currency=campaign.currency,
        goal_minor=campaign.goal_minor,
        raised_minor=raised,
        matched_minor=matched,
        total_minor=total,
        donors_count=campaign.donor_count or 0,
        percent=percent_of(total, campaign.goal_minor),
        ends_at=campaign.ends_at,
    )


def percent_of(amount_minor: int, goal_minor: int) -> int:
    if goal_minor <= 0:
        return 0
    return min(100, max(0, amount_minor) * 100 // goal_minor)


_DAY_SECONDS = 86_400


def days_left_text(ends_at: datetime | None, *, now: datetime) -> str | None:
    """ "3 days left", "1 day left", "last day" (under 24 hours) or "ended"; None without an end."""
    if ends_at is None:
        return None
    if now >= ends_at:
        return "ended"
    days = int((ends_at - now).total_seconds()) // _DAY_SECONDS
    if days == 0:
        return "last day"
    return f"{days} day left" if days == 1 else f"{days} days left"


def challenge_text(challenge: ChallengeProgress) -> str | None:
    """ "12 more donors unlock €500.00", "€300.00 more unlocks €500.00", "Unlocked!" or None
    (the deadline passed without the target: nothing left to ask of donors)."""
    bonus = format_money(challenge.bonus_minor, challenge.currency)
    if challenge.unlocked:
        return f"Unlocked! {challenge.program_name} adds {bonus}."
    if challenge.ended:
        return None
    if challenge.target_kind == "donors":
        who = (
            "1 more donor unlocks"
            if challenge.remaining == 1
            else f"{challenge.remaining} more donors unlock"
        )
        return f"{who} {bonus}"
    return f"{format_money(challenge.remaining, challenge.currency)} more unlocks {bonus}"


# What a donor reads about a match of their gift. Risk signals are never named to the public
# (the same rule as campaigns.matching.explain): a ring must not learn which tell it tripped.
_STATUS_TEXT = {
    MatchStatus.PENDING: "Matched: waiting for the usual checks",
    MatchStatus.HELD_FOR_REVIEW: "Matched: held for a check by our team",
    MatchStatus.APPROVED: "Matched: approved",
    MatchStatus.PAID: "Matched: paid to the organisation",
}
_VOID_TEXT = {
    "refunded": "Not matched because the gift was refunded",
    "partially refunded": "Not matched because the gift was refunded",
    "disputed": "Not matched because the payment was disputed",
    "rejected": "Not matched because our team rejected it after a check",
    "per_donor_cap": "Not matched because the program's limit per donor was reached",
}
_NOT_ELIGIBLE = "Not matched because the gift was not eligible for this program"


@dataclass(frozen=True)
class MatchLine:
    program_name: str
    amount_minor: int
    currency: str
    status: str
    status_text: str

    @property
    def amount_text(self) -> str:
        return format_money(self.amount_minor, self.currency)

    @property
    def matched(self) -> bool:
        return self.status != MatchStatus.VOIDED


def match_status_text(status: MatchStatus, void_reason: str | None) -> str:
    if status is MatchStatus.VOIDED:
        return _VOID_TEXT.get(void_reason or "", _NOT_ELIGIBLE)
    return _STATUS_TEXT[status]


async def donation_matches(session: AsyncSession, donation_id: uuid.UUID) -> list[MatchLine]:
    """The matches one gift earned, oldest program first (one query)."""
    rows = await session.execute(
        sa.select(MatchingProgram.name, Match)
        .join(MatchingProgram, MatchingProgram.id == Match.program_id)
        .where(Match.donation_id == donation_id)
        .order_by(Match.created_at, Match.program_id)
    )
    return [
        MatchLine(
            program_name=name,
            amount_minor=max(match.amount_minor - match.recovered_minor, 0),
            currency=match.currency,
            status=match.status.value,
            status_text=match_status_text(match.status, match.void_reason),
        )
        for name, match in rows.tuples()
    ]


async def expects_matches(session: AsyncSession, donation_id: uuid.UUID) -> bool:
    """A match was quoted at checkout: the webhook processor will turn it into a match soon."""
    found = await session.scalar(
        sa.select(MatchQuote.id).where(MatchQuote.donation_id == donation_id).limit(1)
    )
    return found is not None
