"""Where engines that react to money settling plug in: the matching engine.

Each hook runs in the transaction of the webhook that changed the donation, and must be
idempotent: a replayed webhook can call it again for a change it already saw.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.donations.models import Donation
from campaigns.matching import engine


async def on_donation_settled_changed(session: AsyncSession, donation: Donation) -> None:
    """Confirmed, refunded or disputed: reserve, shrink, void or claw back matches."""
    await engine.on_money_changed(session, donation)


async def on_donation_checkout_closed(session: AsyncSession, donation: Donation) -> None:
    """Failed or expired unpaid: release the match quoted at checkout."""
    await engine.on_checkout_closed(session, donation)


async def on_donation_facts_changed(session: AsyncSession, donation: Donation) -> None:
    """A card fingerprint, a Radar score or an early fraud warning arrived: check matches again."""
    await engine.on_facts_changed(session, donation)
