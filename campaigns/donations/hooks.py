"""Where engines that react to money settling plug in: the matching engine (and its totals).

Matching sits above donations in the domain order (docs/architecture.md), so donations never
imports it: it calls the `MoneyListener` that `campaigns.wiring.wire()` plugged into
`listener` at start-up (campaigns.matching.engine), and fails loudly when none was.

Each hook runs in the transaction of the webhook that changed the donation, and must be
idempotent: a replayed webhook can call it again for a change it already saw.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

from campaigns.campaign.models import Campaign
from campaigns.donations.models import Donation
from campaigns.plugs import Plug
from service.unit_of_work import UnitOfWork


class MoneyListener(Protocol):
    """What must happen when a donation's money or facts change (the matching engine)."""

    async def on_money_changed(self, session: UnitOfWork, donation: Donation) -> None: ...

    async def on_checkout_closed(self, session: UnitOfWork, donation: Donation) -> None: ...

    async def on_facts_changed(self, session: UnitOfWork, donation: Donation) -> None: ...


listener: Plug[MoneyListener] = Plug("campaigns.donations.hooks.listener")


class MatchedTotals(Protocol):
    """The campaign's matched money, for its stored totals (campaigns.matching.totals)."""

    async def matched_total(self, session: UnitOfWork, campaign_id: uuid.UUID) -> int: ...


matched_totals: Plug[MatchedTotals] = Plug("campaigns.donations.hooks.matched_totals")


class ProgressListener(Protocol):
    """Who tells the campaign's open pages that its totals moved (campaigns.giving.live)."""

    async def on_totals_refreshed(
        self, session: UnitOfWork, campaign: Campaign, confirmed: Sequence[Donation]
    ) -> None:
        """`campaign` holds its new totals; `confirmed` are its gifts first paid in this unit."""
        ...


progress: Plug[ProgressListener] = Plug("campaigns.donations.hooks.progress")


class ReceiptListener(Protocol):
    """Who issues receipts (campaigns.receipts.issuing), for a paid donation that only later
    learnt its donor's email: its confirmation could not issue the receipt then."""

    async def on_email_learnt(self, session: UnitOfWork, donation: Donation) -> None: ...


receipts: Plug[ReceiptListener] = Plug("campaigns.donations.hooks.receipts")


async def on_donation_settled_changed(session: UnitOfWork, donation: Donation) -> None:
    """Confirmed, refunded or disputed: reserve, shrink, void or claw back matches."""
    await listener().on_money_changed(session, donation)


async def on_donation_checkout_closed(session: UnitOfWork, donation: Donation) -> None:
    """Failed or expired unpaid: release the match quoted at checkout."""
    await listener().on_checkout_closed(session, donation)


async def on_donation_facts_changed(session: UnitOfWork, donation: Donation) -> None:
    """A card fingerprint, a Radar score or an early fraud warning arrived: check matches again."""
    await listener().on_facts_changed(session, donation)


async def on_donation_email_learnt(session: UnitOfWork, donation: Donation) -> None:
    """A donation already paid learnt its donor's email: issue the receipt it is owed."""
    await receipts().on_email_learnt(session, donation)
