"""The fundraiser's emails, in their language, queued in the unit that makes their cause true.

Keys name the cause, so a retried unit queues nothing twice: `fundraiser:confirm:{link}`,
`fundraiser:sign-in:{link}`, `fundraiser:{id}:live` (after the nonprofit's approval),
`fundraiser:{id}:first-donor` (the page's first confirmed gift; the UNIQUE key sends it once).
Links point at the giving pages part B serves: `giving:fundraiser_confirm` and
`giving:fundraiser_sign_in` (slug, token), `giving:fundraiser` (slug, fundraiser_slug).
The two link keys' prefixes are in service.mail.retention.SENSITIVE_KEY_PREFIXES: the outbox
blanks those bodies once sent or given up, so no copy of a link outlives its delivery.
"""

from __future__ import annotations

from campaigns.campaign.models import Campaign
from campaigns.fundraising.access import CONFIRM_LIFETIME, SIGN_IN_LIFETIME, IssuedLink
from campaigns.fundraising.models import Fundraiser
from service.mail import outbox
from service.mail.compose import compose
from service.unit_of_work import UnitOfWork

AREA = "fundraising"


async def queue_confirmation(
    session: UnitOfWork, *, issued: IssuedLink, fundraiser: Fundraiser, campaign: Campaign
) -> None:
    rendered = compose(
        AREA,
        "confirm",
        language=issued.link.language,
        fundraiser=fundraiser,
        campaign=campaign,
        token=issued.token,
        hours=int(CONFIRM_LIFETIME.total_seconds() // 3600),
    )
    await outbox.enqueue(
        session, key=f"fundraiser:confirm:{issued.link.id}", email=rendered.email(to=issued.link.email)
    )


async def queue_sign_in(session: UnitOfWork, *, issued: IssuedLink, campaign: Campaign) -> None:
    rendered = compose(
        AREA,
        "sign_in",
        language=issued.link.language,
        campaign=campaign,
        token=issued.token,
        minutes=int(SIGN_IN_LIFETIME.total_seconds() // 60),
    )
    await outbox.enqueue(
        session, key=f"fundraiser:sign-in:{issued.link.id}", email=rendered.email(to=issued.link.email)
    )


async def queue_live(session: UnitOfWork, *, fundraiser: Fundraiser, campaign: Campaign) -> None:
    rendered = compose(AREA, "live", language=fundraiser.language, fundraiser=fundraiser, campaign=campaign)
    await outbox.enqueue(
        session, key=f"fundraiser:{fundraiser.id}:live", email=rendered.email(to=fundraiser.email)
    )


async def queue_first_donor(session: UnitOfWork, *, fundraiser: Fundraiser, campaign: Campaign) -> None:
    key = f"fundraiser:{fundraiser.id}:first-donor"
    rendered = compose(
        AREA, "first_donor", language=fundraiser.language, fundraiser=fundraiser, campaign=campaign
    )
    await outbox.enqueue(session, key=key, email=rendered.email(to=fundraiser.email))
