"""Which fundraiser a donation came through, decided at checkout.

The checkout (campaigns.giving.checkout) asks `attribution_for_checkout` before it adds the
pending donation, and `attribute_donation` right after, in the same transaction: the row exists
exactly when the donation does. The fundraiser's share link becomes the donation's referral
link, ahead of any referral cookie, because the donor chose the page they gave on; the
matching policies that reward referrals read it like any other referral.

A page earns only while it is live (and its campaign has peer-to-peer on): a gift through a
hidden or ended page's share link keeps no referral and counts for no fundraiser
(`referral_through_link`). When a gift settles, a fundraiser's link that no longer earns is taken
off the donation (`on_fact`, a fact listener heard before matching runs), so every matching
reader (referral bonus, engagement tiers' referred donors, risk) sees one answer: a gift checked
out before its page was hidden, and a recurring gift's installment (which copies the first
gift's link) paid after the page ended, refer nothing. Each later installment of a
recurring gift counts for the page its first gift came through (`attribute_installment`, plugged
into campaigns.recurring.hooks.attribution), also while the page waits for re-approval of an edit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns import facts
from campaigns.campaign.models import Campaign
from campaigns.donations.models import Donation
from campaigns.fundraising import repository
from campaigns.fundraising.errors import FundraiserNotLive
from campaigns.fundraising.models import Fundraiser, FundraiserDonation, FundraiserStatus
from service.i18n import N_
from service.unit_of_work import UnitOfWork


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
    return _attribution(fundraiser)


@dataclass(frozen=True)
class LinkReferral:
    link_id: uuid.UUID | None
    """The referral the gift keeps: None for a fundraiser's link whose page is not live."""
    attribution: Attribution | None
    """The live fundraiser the link is the share link of, if any."""


async def referral_through_link(
    session: AsyncSession, *, campaign_id: uuid.UUID, link_id: uuid.UUID | None
) -> LinkReferral:
    """What a referral link (cookie or code) gives a gift on the campaign page.

    A hidden or ended page, or a campaign that turned peer-to-peer off, must not keep earning
    through links already shared: such a link refers nothing (no referral bonus, no engagement
    tier credit) and counts for no fundraiser; the gift itself still goes to the campaign.
    """
    if link_id is None:
        return LinkReferral(None, None)
    fundraiser = await session.scalar(sa.select(Fundraiser).where(Fundraiser.share_link_id == link_id))
    if fundraiser is None:
        return LinkReferral(link_id, None)  # another kind of link: sharing's rules apply
    if fundraiser.campaign_id != campaign_id or not await _takes_gifts(session, fundraiser):
        return LinkReferral(None, None)
    return LinkReferral(link_id, _attribution(fundraiser))


async def on_fact(session: UnitOfWork, fact: facts.Fact) -> None:
    """A gift just settled (campaigns.wiring.FACT_LISTENERS, heard before matching reads the
    donation): a fundraiser's share link whose page no longer earns refers nothing, so it is
    taken off the donation. Other links keep sharing's rules. Settled once: a replay finds the
    link already gone."""
    if fact.type != facts.DONATION_CONFIRMED:
        return
    donation = await session.get(Donation, fact.subject_id)  # the settling row: no query
    if donation is None or donation.referral_link_id is None:
        return
    referral = await referral_through_link(
        session, campaign_id=donation.campaign_id, link_id=donation.referral_link_id
    )
    if referral.link_id is None:
        donation.referral_link_id = None


async def attribute_installment(
    session: AsyncSession, *, installment_id: uuid.UUID, first_donation_id: uuid.UUID
) -> None:
    """A recurring gift's later installment counts for the page its first gift came through
    (campaigns.recurring asks through recurring.hooks.attribution), while that page is live or,
    approved before, waits for the nonprofit to approve an edit (the donor's monthly gift is
    not the edit's fault), with the page's team at the time of this installment. A hidden or
    ended page gets nothing. The donor is one identity, so they stay one distinct donor; every
    installment's amount is raised."""
    first = await session.get(FundraiserDonation, first_donation_id)
    if first is None:
        return
    fundraiser = await session.get(Fundraiser, first.fundraiser_id)
    if fundraiser is None or not await _takes_gifts(session, fundraiser, awaiting_edit=True):
        return
    await attribute_donation(
        session,
        donation_id=installment_id,
        campaign_id=first.campaign_id,
        attribution=_attribution(fundraiser),
    )


async def _takes_gifts(session: AsyncSession, fundraiser: Fundraiser, *, awaiting_edit: bool = False) -> bool:
    """Live, on a campaign with peer-to-peer on; with `awaiting_edit`, also a page approved
    before that waits again only because its owner edited it (managing.hold_for_approval)."""
    re_approval = (
        awaiting_edit
        and fundraiser.status is FundraiserStatus.PENDING_APPROVAL
        and fundraiser.approved_at is not None
    )
    if fundraiser.status is not FundraiserStatus.LIVE and not re_approval:
        return False
    enabled = await session.scalar(
        sa.select(Campaign.fundraisers_enabled).where(Campaign.id == fundraiser.campaign_id)
    )
    return bool(enabled)


def _attribution(fundraiser: Fundraiser) -> Attribution:
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
