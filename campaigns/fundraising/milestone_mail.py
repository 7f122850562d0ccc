"""The fundraiser hears when their page's first gift is confirmed (a fact listener).

Wired in campaigns.wiring.FACT_LISTENERS: on `donation.confirmed` of a gift that came through a
live page, queue "your first donor" in the fundraiser's language. The outbox key
`fundraiser:{id}:first-donor` is UNIQUE, so only the first confirmed gift sends it, whatever
replays or later gifts come. It names no donor and no amount: the fundraiser learns that
someone gave, not who or how much.
"""

from __future__ import annotations

from campaigns import facts
from campaigns.campaign.models import Campaign
from campaigns.fundraising import mail
from campaigns.fundraising.models import Fundraiser, FundraiserDonation, FundraiserStatus
from service.unit_of_work import UnitOfWork


async def on_fact(session: UnitOfWork, fact: facts.Fact) -> None:
    if fact.type != facts.DONATION_CONFIRMED:
        return
    row = await session.get(FundraiserDonation, fact.subject_id)
    if row is None:
        return
    fundraiser = await session.get(Fundraiser, row.fundraiser_id)
    if fundraiser is None or fundraiser.status is not FundraiserStatus.LIVE:
        return
    campaign = await session.get(Campaign, fundraiser.campaign_id)
    assert campaign is not None
    await mail.queue_first_donor(session, fundraiser=fundraiser, campaign=campaign)
