"""What recurring gifts need from fundraising, which sits on their layer of the domain order.

A renewal is a new donation made from the gift's row, so nothing at checkout attributes it to
the fundraiser page the first gift came through; the fundraiser's and team's totals would miss
every installment after the first. Recurring does not import fundraising (one layer, neither
imports the other): it calls what `campaigns.wiring.wire()` plugged in at start-up
(campaigns.fundraising.attribution).
"""

from __future__ import annotations

import uuid
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.plugs import Plug


class InstallmentAttribution(Protocol):
    async def attribute_installment(
        self, session: AsyncSession, *, installment_id: uuid.UUID, first_donation_id: uuid.UUID
    ) -> None:
        """Count a new installment for the page the gift's first donation came through, if any."""
        ...


attribution: Plug[InstallmentAttribution] = Plug("campaigns.recurring.hooks.attribution")
