"""The email members get when Goodloop disables their failing webhook endpoint.

Written to the mail outbox in the transaction that disables the endpoint, one message per
member, keyed by the endpoint, the moment it was disabled and the member: the same disabling
never mails twice, and a later one (after someone re-enabled it) mails again.
"""

from __future__ import annotations

import sqlalchemy as sa

from campaigns.integrations.endpoint_models import WebhookEndpoint
from campaigns.nonprofits.models import Member, Nonprofit
from service.mail import outbox
from service.mail.compose import compose
from service.unit_of_work import UnitOfWork

_DUTCH_SPEAKING = frozenset({"NL", "BE", "SR"})


def language_for(nonprofit: Nonprofit) -> str:
    """Members have no language of their own here: the organisation's country decides."""
    return "nl" if nonprofit.country.upper() in _DUTCH_SPEAKING else "en"


async def endpoint_disabled(session: UnitOfWork, *, endpoint: WebhookEndpoint) -> int:
    """Queue the notice for every member; how many were queued now."""
    nonprofit = await session.get(Nonprofit, endpoint.nonprofit_id)
    assert nonprofit is not None  # an endpoint's nonprofit is a foreign key
    assert endpoint.disabled_at is not None
    members = (
        await session.scalars(
            sa.select(Member).where(Member.nonprofit_id == endpoint.nonprofit_id).order_by(Member.email)
        )
    ).all()
    rendered = compose(
        "integrations",
        "endpoint_disabled",
        language=language_for(nonprofit),
        nonprofit_name=nonprofit.name,
        endpoint_url=endpoint.url,
        endpoint_id=endpoint.id,
        failing_since=endpoint.failing_since or endpoint.disabled_at,
        disabled_at=endpoint.disabled_at,
    )
    queued = 0
    for member in members:
        key = f"webhook-endpoint:{endpoint.id}:disabled:{endpoint.disabled_at.isoformat()}:{member.id}"
        queued += await outbox.enqueue(session, key=key, email=rendered.email(to=member.email))
    return queued
