"""The donor's "your monthly gift did not go through" email (nl/en), through the mail outbox.

Written in the webhook's transaction, keyed by invoice and attempt: a replayed
invoice.payment_failed enqueues nothing new. The link goes to a Goodloop route
(campaigns/recurring/card_pages.py) that opens Stripe's Billing Portal on click, because no
network call may run inside the webhook's transaction and a portal session expires quickly.
"""

from __future__ import annotations

from datetime import datetime

from campaigns.campaign.models import Campaign
from campaigns.nonprofits.models import Nonprofit
from campaigns.recurring.models import RecurringGift
from service.i18n import DEFAULT_LANGUAGE, LANGUAGES
from service.mail import compose, links, outbox
from service.unit_of_work import UnitOfWork

CARD_ROUTE = "recurring:card"


async def send_payment_failed(
    session: UnitOfWork,
    *,
    gift: RecurringGift,
    invoice_id: str,
    attempt: int,
    token: str,
    amount_minor: int,
    currency: str,
    next_attempt_at: datetime | None,
) -> bool:
    assert gift.donor_email is not None
    campaign = await session.get(Campaign, gift.campaign_id)
    nonprofit = await session.get(Nonprofit, gift.nonprofit_id)
    assert campaign is not None and nonprofit is not None
    language = gift.language if gift.language in LANGUAGES else DEFAULT_LANGUAGE
    rendered = compose.compose(
        "recurring",
        "payment_failed",
        language=language,
        gift=gift,
        campaign_title=campaign.title,
        nonprofit_name=nonprofit.name,
        amount_minor=amount_minor,
        currency=currency,
        next_attempt_at=next_attempt_at,
        card_url=links.url(CARD_ROUTE, token=token),
        campaign_url=links.url("giving:campaign", slug=campaign.slug),
    )
    return await outbox.enqueue(
        session,
        key=f"recurring:{invoice_id}:{attempt}:payment_failed",
        email=rendered.email(to=gift.donor_email),
    )
