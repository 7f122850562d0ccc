"""The portal's one email: the sign-in link, in the language of the page it was asked from."""

from __future__ import annotations

from campaigns.portal.models import DonorSignInLink
from campaigns.portal.signin import LINK_LIFETIME
from service.mail import outbox
from service.mail.compose import compose
from service.unit_of_work import UnitOfWork


async def queue_sign_in_email(session: UnitOfWork, *, link: DonorSignInLink, url: str) -> None:
    """Queue the link's email in the unit that wrote the link: both commit, or neither."""
    rendered = compose(
        "portal",
        "sign_in",
        language=link.language,
        link_url=url,
        minutes=int(LINK_LIFETIME.total_seconds() // 60),
    )
    await outbox.enqueue(session, key=f"portal:sign-in:{link.id}", email=rendered.email(to=link.email))
