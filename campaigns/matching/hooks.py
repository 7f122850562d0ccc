"""What matching needs from payouts, which sits above it in the domain order.

A paid match's money is in the nonprofit's Stripe account, so taking it back is the payouts
outbox's work (a transfer reversal), and whether a match's transfer ever went out is in the
payouts' own rows. Matching does not import payouts (payouts moves pool money through
matching's `pool`, so the import would make a cycle): it calls what `campaigns.wiring.wire()`
plugged in at start-up (campaigns.payouts.clawbacks and campaigns.payouts.repository).
"""

from __future__ import annotations

import uuid
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.matching.models import Match, MatchingProgram
from campaigns.plugs import Plug
from service.unit_of_work import UnitOfWork


class Clawbacks(Protocol):
    async def request_clawback(
        self, session: UnitOfWork, program: MatchingProgram, match: Match, *, total_minor: int, reason: str
    ) -> bool:
        """Ask for `total_minor` back in all; False when the match has no transfer to reverse."""
        ...


class Transfers(Protocol):
    async def transfer_was_sent(self, session: AsyncSession, match_id: uuid.UUID) -> bool:
        """Whether the match's one transfer went out (or may have: it is being sent)."""
        ...


clawbacks: Plug[Clawbacks] = Plug("campaigns.matching.hooks.clawbacks")
transfers: Plug[Transfers] = Plug("campaigns.matching.hooks.transfers")
