"""Stripe Connect status of a nonprofit, kept current from account.updated events."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.nonprofits.models import Nonprofit
from service.db import for_no_key_update


async def record_account_status(
    session: AsyncSession,
    *,
    stripe_account_id: str,
    charges_enabled: bool,
    payouts_enabled: bool,
    details_submitted: bool,
    requirements_due: Sequence[str],
) -> Nonprofit | None:
    """Copy Stripe's absolute account state; None when no nonprofit has this account."""
    # No key changes here: FOR NO KEY UPDATE, which checkouts inserting donations for this
    # nonprofit (a key-share lock) do not wait on (docs/architecture.md, "Lock order").
    nonprofit = await session.scalar(
        for_no_key_update(
            sa.select(Nonprofit).where(Nonprofit.stripe_account_id == stripe_account_id)
        ).execution_options(populate_existing=True)
    )
    if nonprofit is None:
        return None
    nonprofit.charges_enabled = charges_enabled
    nonprofit.payouts_enabled = payouts_enabled
    nonprofit.details_submitted = details_submitted
    nonprofit.requirements_due = sorted(set(requirements_due))
    await session.flush()
    return nonprofit
