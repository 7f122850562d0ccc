"""A campaign's stats for its nonprofit: money raised and matched, and the engagement funnel."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign import service as campaigns
from campaigns.engagement import repository
from campaigns.engagement.models import Metric
from campaigns.engagement.schemas import CampaignStats, Funnel, ShareVisits
from campaigns.matching.models import MatchStatus
from campaigns.nonprofits.actors import Actor
from campaigns.sharing.service import Channel

SUPPORTER_CHANNEL = "supporter"


async def campaign_stats(session: AsyncSession, *, actor: Actor, campaign_id: uuid.UUID) -> CampaignStats:
    # Scoped to the actor's organisation: another nonprofit's campaign is "not found".
    campaign = await campaigns.get_campaign(session, actor=actor, campaign_id=campaign_id)
    metrics = await repository.metric_totals(session, campaign.id)
    matched = await repository.matched_by_status(session, campaign.id)
    visits = await repository.share_visits_by_channel(session, campaign.id)
    donations, referred_donors = await repository.settled_donation_counts(session, campaign.id)
    return CampaignStats(
        campaign_id=campaign.id,
        currency=campaign.currency,
        raised_minor=campaign.raised_minor,
        donors_count=campaign.donor_count,
        matched={status: matched.get(status, 0) for status in MatchStatus},
        funnel=Funnel(
            views=metrics.get(Metric.VIEW, 0),
            share_visits=share_visits(visits),
            checkouts_started=metrics.get(Metric.CHECKOUT_STARTED, 0),
            donations=donations,
            referred_donors=referred_donors,
        ),
    )


def share_visits(per_channel: list[tuple[str | None, int]]) -> ShareVisits:
    """Every known channel (0 when it has no visits), supporters' links as their own channel."""
    by_channel = dict.fromkeys([*Channel, SUPPORTER_CHANNEL], 0)
    for channel, visits in per_channel:
        name = channel or SUPPORTER_CHANNEL
        by_channel[name] = by_channel.get(name, 0) + visits
    return ShareVisits(total=sum(by_channel.values()), by_channel=by_channel)
