"""Extension points for engines that react to money settling (the future matching engine)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.donations.models import Donation


async def on_donation_settled_changed(session: AsyncSession, donation: Donation) -> None:
    """Called in the same transaction whenever a donation is confirmed, refunded or disputed.

    The matching engine will reserve, void or claw back matches here; it must be idempotent,
    because a replayed webhook can call it again for a change it already saw. A no-op for now.
    """
    return None
