"""Which fundraiser a donation came through, decided at checkout.

The checkout (campaigns.giving.checkout) asks `attribution_for_checkout` before it adds the
pending donation, and `attribute_donation` right after, in the same transaction: the row exists
exactly when the donation does. The fundraiser's share link becomes the donation's referral
link, ahead of any referral cookie, because the donor chose the page they gave on; the
matching policies that reward referrals read it like any other referral.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign
from campaigns.fundraising import repository
from campaigns.fundraising.errors import FundraiserNotLive
from campaigns.fundraising.models import Fundraiser, FundraiserDonation, FundraiserStatus
from service.i18n import N_


@dataclass(frozen=True)
class Attribution:
    fundraiser_id: uuid.UUID
    team_id: uuid.UUID | None
    share_link_id: uuid.UUID
    """The donation's referral link."""


async def attribution_for_checkout(
    session: AsyncSession, *, campaign_id: uuid.UUID, fundraiser_slug: str
) -> Attribution:
    """The live fundraiser of this campaign a checkout named; FundraiserNotLive (422) otherwise."""
    fundraiser = await repository.get_by_slug(session, campaign_id=campaign_id, slug=fundraiser_slug.strip())
    enabled = await session.scalar(sa.select(Campaign.fundraisers_enabled).where(Campaign.id == campaign_id))
    if fundraiser is None or fundraiser.status is not FundraiserStatus.LIVE or not enabled:
        raise FundraiserNotLive(N_("This fundraiser page is not taking donations."))
    return Attribution(
        fundraiser_id=fundraiser.id, team_id=fundraiser.team_id, share_link_id=fundraiser.share_link_id
    )


async def attribution_for_link(
    session: AsyncSession, *, campaign_id: uuid.UUID, link_id: uuid.UUID
) -> Attribution | None:
    """The live fundraiser whose share link referred a gift made elsewhere (a visitor who came
    through `/s/{code}` and gave on the campaign page): the gift still counts for them."""
    fundraiser = await session.scalar(
        sa.select(Fundraiser).where(
            Fundraiser.share_link_id == link_id, Fundraiser.campaign_id == campaign_id
        )
    )
    if fundraiser is None or fundraiser.status is not FundraiserStatus.LIVE:
        return None
    enabled = await session.scalar(sa.select(Campaign.fundraisers_enabled).where(Campaign.id == campaign_id))
    if not enabled:
        return None
    return Attribution(
        fundraiser_id=fundraiser.id, team_id=fundraiser.team_id, share_link_id=fundraiser.share_link_id
    )


async def attribute_donation(
    session: AsyncSession, *, donation_id: uuid.UUID, campaign_id: uuid.UUID, attribution: Attribution
) -> None:
    session.add(
        FundraiserDonation(
            donation_id=donation_id,
            fundraiser_id=attribution.fundraiser_id,
            team_id=attribution.team_id,
            campaign_id=campaign_id,
        )
    )
    await session.flush()
