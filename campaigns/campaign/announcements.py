"""The campaign fact: `campaign.status_changed`, key `campaign:{id}:status:{n}` for the campaign's
n-th status move (campaigns.status_changes), announced by every use case that moves the status
(campaigns.campaign.service), after the fields the move sets. The status machine refuses a move
that is not an edge, so a repeated request never announces twice; a campaign paused and resumed
many times announces each move under its own number.

`data` is the campaign as the API shows it (schemas.campaign_shape); its absolute URLs come from
`service.mail.links` (PUBLIC_BASE_URL and the app's routes), since there is no request here.
"""

from __future__ import annotations

from campaigns import facts
from campaigns.campaign.models import Campaign
from campaigns.campaign.schemas import campaign_shape
from service.mail import links
from service.unit_of_work import UnitOfWork


async def announce_status_changed(session: UnitOfWork, campaign: Campaign) -> None:
    campaign.status_changes = (campaign.status_changes or 0) + 1
    # The row's updated_at is this moment (the unit keeps a value the use case set), so the
    # event carries the same campaign the API returns afterwards.
    campaign.updated_at = session.now()
    await facts.announce(
        session,
        facts.Fact(
            type=facts.CAMPAIGN_STATUS_CHANGED,
            key=f"campaign:{campaign.id}:status:{campaign.status_changes}",
            nonprofit_id=campaign.nonprofit_id,
            subject_id=campaign.id,
            occurred_at=session.now(),
            data=campaign_shape(campaign, links.url).model_dump(mode="json"),
        ),
    )
