"""Read-side use cases of the donor's path: the campaign page and the thank-you page."""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property

import nh3
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.errors import CampaignNotFound
from campaigns.campaign.models import Campaign
from campaigns.donations.models import Donation, DonationStatus
from campaigns.giving import repository
from campaigns.giving.availability import closed_reason, is_public
from campaigns.giving.errors import DonationNotFound
from campaigns.giving.progress import (
    CampaignProgress,
    MatchLine,
    campaign_progress,
    challenge_text,
    days_left_text,
    donation_matches,
    expects_matches,
    progress_texts,
)
from campaigns.giving.repository import Supporter
from campaigns.giving.updates import UpdatePage, latest_updates
from campaigns.matching import quotes
from campaigns.matching import repository as matching_repository
from campaigns.matching.challenges import ChallengeProgress, challenges_for
from campaigns.matching.eligibility import Context
from campaigns.nonprofits.models import Nonprofit
from campaigns.sharing import service as sharing
from service.web.tokens import thanks_token_valid

RECENT_SUPPORTERS = 10
_DESCRIPTION_LENGTH = 200
_SPACES = re.compile(r"\s+")
# A supporter link is handed out once the payment went through (or is on its way, for SEPA).
_SHAREABLE = frozenset(
    {DonationStatus.PROCESSING, DonationStatus.CONFIRMED, DonationStatus.PARTIALLY_REFUNDED}
)


@dataclass(frozen=True)
class CampaignView:
    campaign: Campaign
    nonprofit: Nonprofit
    closed_reason: str | None
    supporters: list[Supporter]
    description: str
    match_offers: list[quotes.Offer] = field(default_factory=list)
    challenges: list[ChallengeProgress] = field(default_factory=list)
    now: datetime | None = None
    updates: UpdatePage | None = None
    """The newest published campaign updates (campaigns.giving.updates)."""

    @cached_property
    def progress(self) -> CampaignProgress:
        return campaign_progress(self.campaign)

    @cached_property
    def progress_texts(self) -> dict[str, str]:
        return progress_texts(self.progress)

    @property
    def days_left(self) -> str | None:
        return days_left_text(self.campaign.ends_at, now=self.now) if self.now else None

    @property
    def challenge_texts(self) -> list[tuple[ChallengeProgress, str | None]]:
        """Each challenge and its sentence ("12 more donors unlock €500.00", "Unlocked! ...");
        None once its deadline passed unmet (nothing left to ask of donors)."""
        return [(c, challenge_text(c)) for c in self.challenges]

    @property
    def challenge_lines(self) -> list[tuple[ChallengeProgress, str]]:
        """The challenges a page shows, with their sentence."""
        return [(c, text) for c, text in self.challenge_texts if text]

    def texts_in(self, language: str) -> dict[str, str]:
        """progress_texts for a reader of `language` (the page's progress block)."""
        return progress_texts(self.progress, language)

    def days_left_in(self, language: str) -> str | None:
        """ "3 days left" / "nog 3 dagen"."""
        return days_left_text(self.campaign.ends_at, now=self.now, language=language) if self.now else None

    def challenge_lines_in(self, language: str) -> list[tuple[ChallengeProgress, str]]:
        lines = [(c, challenge_text(c, language)) for c in self.challenges]
        return [(c, text) for c, text in lines if text]

    def closed_reason_in(self, language: str) -> str | None:
        """Why the campaign takes no gifts now, for a reader of `language` (None while it does)."""
        if self.closed_reason is None or self.now is None:
            return self.closed_reason
        return closed_reason(self.campaign, self.nonprofit, now=self.now, language=language)


@dataclass(frozen=True)
class DonationProgress:
    donation: Donation
    share_code: str | None
    matches: list[MatchLine] = field(default_factory=list)
    awaiting_matches: bool = False
    """Matched at checkout, but the webhook processor has not created the match yet."""

    @property
    def confirmed(self) -> bool:
        return self.donation.status in _SHAREABLE

    def in_language(self, language: str) -> DonationProgress:
        """The same progress with its match lines for a reader of `language`."""
        return replace(self, matches=[m.in_language(language) for m in self.matches])

    @property
    def state(self) -> str:
        """What the thank-you page shows: processing, confirmed, or the donation's own status."""
        if self.donation.status is DonationStatus.PENDING:
            return "processing"
        return "confirmed" if self.confirmed else self.donation.status.value


def story_text(story_html: str, *, limit: int = _DESCRIPTION_LENGTH) -> str:
    """Plain text of the sanitised story, for Open Graph descriptions."""
    text = _SPACES.sub(" ", html.unescape(nh3.clean(story_html, tags=set()))).strip()
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"


async def campaign_view(session: AsyncSession, *, slug: str, now: datetime) -> CampaignView:
    """Campaign with nonprofit, the recent supporters and the latest updates; while the campaign
    is open, also its matching programs (one query shared by the offers and the challenges) and
    what those programs need (engagement tiers, challenge counts)."""
    found = await repository.get_campaign_with_nonprofit(session, slug)
    if found is None or not is_public(found[0]):
        raise CampaignNotFound("no such campaign")
    campaign, nonprofit = found
    supporters = await repository.list_recent_supporters(session, campaign.id, limit=RECENT_SUPPORTERS)
    reason = closed_reason(campaign, nonprofit, now=now)
    ctx = Context(campaign, nonprofit)
    offers: list[quotes.Offer] = []
    challenges: list[ChallengeProgress] = []
    if not reason:
        # One query for both; offers and challenges only cost more when such a program exists.
        programs = await matching_repository.programs_for(
            session, currency=campaign.currency, campaign_id=campaign.id, at=now
        )
        offers = await quotes.live_offers(session, ctx=ctx, programs=programs)
        challenges = await challenges_for(session, ctx=ctx, programs=programs, at=now)
    return CampaignView(
        campaign=campaign,
        nonprofit=nonprofit,
        closed_reason=reason,
        supporters=supporters,
        description=story_text(campaign.story_html),
        match_offers=offers,
        challenges=challenges,
        now=now,
        updates=await latest_updates(session, campaign.id),
    )


async def donation_progress(
    session: AsyncSession,
    *,
    slug: str,
    donation_id: uuid.UUID,
    token: str | None,
    stripe_checkout_session_id: str | None,
    secret_key: str,
) -> DonationProgress:
    """Only the holder of the success URL learns anything: its signed token or its session id."""
    donation = await repository.get_donation(session, donation_id)
    if donation is None or not _may_read(donation, token, stripe_checkout_session_id, secret_key):
        raise DonationNotFound("no such donation")
    campaign = await session.get(Campaign, donation.campaign_id)
    if campaign is None or campaign.slug != slug:
        raise DonationNotFound("no such donation")
    share_code: str | None = None
    if donation.status in _SHAREABLE:
        link = await sharing.ensure_supporter_link(session, campaign_id=campaign.id, donation_id=donation.id)
        share_code = link.code
    matches = await donation_matches(session, donation.id)
    awaiting = not matches and donation.status in _SHAREABLE and await expects_matches(session, donation.id)
    return DonationProgress(
        donation=donation, share_code=share_code, matches=matches, awaiting_matches=awaiting
    )


def _may_read(donation: Donation, token: str | None, session_id: str | None, secret_key: str) -> bool:
    if thanks_token_valid(secret_key, token, donation.id):
        return True
    return bool(session_id) and session_id == donation.stripe_checkout_session_id
