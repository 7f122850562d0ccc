"""A campaign's progress as donors see it, and the matches a gift earned, in words.

`campaign_progress` is the one reading of a campaign's numbers (raised, matched, total,
percent, donors, deadline) that the campaign page, the live events and the public API all
use, so the three never disagree. It reads only the campaign row's stored totals
(Campaign.raised_minor, donor_count, matched_minor; which matches count as matched:
campaigns.matching.totals). Money stays in integer minor units; percentages are floored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa
from babel.numbers import format_decimal, format_percent
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign
from campaigns.matching.challenges import ChallengeProgress
from campaigns.matching.models import Match, MatchingProgram, MatchQuote, MatchStatus
from service import i18n
from service.web.messages import N_


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


def progress_texts(progress: CampaignProgress, language: str = i18n.DEFAULT_LANGUAGE) -> dict[str, str]:
    """What each element of the progress block shows (giving/_progress.html), by payload key,
    in `language` (Babel's money and numbers: "€ 1.250,00", "1.204 donateurs").

    The live events send these so the page's script never formats money or plurals:
    #raised <- raised_text, #matched <- matched_text, #total <- total_text,
    #percent <- percent_text, #donor-count <- donors_text.
    """
    donors = progress.donors_count
    locale = i18n.babel_locale(language)
    ngettext = i18n.translations(language).ngettext
    count = format_decimal(donors, locale=locale)
    return {
        "raised_text": i18n.format_money(progress.raised_minor, progress.currency, language),
        "matched_text": i18n.format_money(progress.matched_minor, progress.currency, language),
        "total_text": i18n.format_money(progress.total_minor, progress.currency, language),
        "percent_text": format_percent(progress.percent / 100, locale=locale),
        "donors_text": ngettext("%(count)s donor", "%(count)s donors", donors) % {"count": count},
    }


def announcement(progress: CampaignProgress, language: str) -> str:
    """The one short sentence screen readers hear when the total moves (live.js, politely)."""
    _ = i18n.translations(language).gettext
    return _("%(total)s raised of %(goal)s") % {
        "total": i18n.format_money(progress.total_minor, progress.currency, language),
        "goal": i18n.format_money(progress.goal_minor, progress.currency, language),
    }


def texts_by_language(progress: CampaignProgress) -> dict[str, dict[str, str]]:
    """progress_texts and the announcement in every language, for live events and the summary:
    one message serves every open page, whatever language each is read in."""
    return {
        language: {**progress_texts(progress, language), "announce_text": announcement(progress, language)}
        for language in i18n.LANGUAGES
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


def days_left_text(
    ends_at: datetime | None, *, now: datetime, language: str = i18n.DEFAULT_LANGUAGE
) -> str | None:
    """ "3 days left" / "nog 3 dagen", "last day" / "laatste dag" (under 24 hours) or
    "ended" / "afgelopen"; None without an end."""
    if ends_at is None:
        return None
    translations = i18n.translations(language)
    _ = translations.gettext
    if now >= ends_at:
        return _("ended")
    days = int((ends_at - now).total_seconds()) // _DAY_SECONDS
    if days == 0:
        return _("last day")
    return translations.ngettext("%(num)s day left", "%(num)s days left", days) % {"num": days}


def challenge_text(challenge: ChallengeProgress, language: str = i18n.DEFAULT_LANGUAGE) -> str | None:
    """ "12 more donors unlock €500.00", "€300.00 more unlocks €500.00", "Unlocked!" or None
    (the deadline passed without the target: nothing left to ask of donors)."""
    translations = i18n.translations(language)
    _ = translations.gettext
    bonus = i18n.format_money(challenge.bonus_minor, challenge.currency, language)
    if challenge.unlocked:
        return _("Unlocked! %(program)s adds %(bonus)s.") % {
            "program": challenge.program_name,
            "bonus": bonus,
        }
    if challenge.ended:
        return None
    if challenge.target_kind == "donors":
        return translations.ngettext(
            "%(num)s more donor unlocks %(bonus)s",
            "%(num)s more donors unlock %(bonus)s",
            challenge.remaining,
        ) % {"num": challenge.remaining, "bonus": bonus}
    remaining = i18n.format_money(challenge.remaining, challenge.currency, language)
    return _("%(remaining)s more unlocks %(bonus)s") % {"remaining": remaining, "bonus": bonus}


# What a donor reads about a match of their gift. Risk signals are never named to the public
# (the same rule as campaigns.matching.explain): a ring must not learn which tell it tripped.
_STATUS_TEXT = {
    MatchStatus.PENDING: N_("Matched: waiting for the usual checks"),
    MatchStatus.HELD_FOR_REVIEW: N_("Matched: held for a check by our team"),
    MatchStatus.APPROVED: N_("Matched: approved"),
    MatchStatus.PAID: N_("Matched: paid to the organisation"),
}
_VOID_TEXT = {
    "refunded": N_("Not matched because the gift was refunded"),
    "partially refunded": N_("Not matched because the gift was refunded"),
    "disputed": N_("Not matched because the payment was disputed"),
    "rejected": N_("Not matched because our team rejected it after a check"),
    "per_donor_cap": N_("Not matched because the program's limit per donor was reached"),
}
_NOT_ELIGIBLE = N_("Not matched because the gift was not eligible for this program")


@dataclass(frozen=True)
class MatchLine:
    program_name: str
    amount_minor: int
    currency: str
    status: str
    status_text: str
    language: str = i18n.DEFAULT_LANGUAGE

    @property
    def amount_text(self) -> str:
        return i18n.format_money(self.amount_minor, self.currency, self.language)

    def in_language(self, language: str) -> MatchLine:
        """The same line with its amount and status for a reader of `language`."""
        status_text = i18n.translations(language).gettext(self.status_text)
        return replace(self, status_text=status_text, language=language)

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
