"""Start-up wiring: each higher domain package plugs itself into what a lower one asks of it.

The domain order (docs/architecture.md) lets a package import only those below it; where a
lower package must still make a higher one act, it declares a `campaigns.plugs.Plug`. This is
the one place that fills them, so the app factory (service.app), the worker, the CLI, the
simulator and the tests all run the same wiring. `wire()` is idempotent: every edge calls it.
"""

from __future__ import annotations

from typing import Any

from campaigns import facts
from campaigns.donations import hooks as donation_hooks
from campaigns.fundraising import attribution as fundraising_attribution
from campaigns.fundraising import milestone_mail as fundraising_milestones
from campaigns.giving import live as giving_live
from campaigns.integrations import deliveries as integration_deliveries
from campaigns.integrations import events as integration_events
from campaigns.matching import engine
from campaigns.matching import hooks as matching_hooks
from campaigns.matching import totals as matching_totals
from campaigns.nonprofits import hooks as nonprofit_hooks
from campaigns.notifications import invites as notification_invites
from campaigns.notifications import listener as notification_listener
from campaigns.payouts import clawbacks
from campaigns.payouts import repository as payout_repository
from campaigns.plugs import Plug
from campaigns.receipts import issuing as receipt_issuing
from campaigns.recurring import hooks as recurring_hooks

FACT_LISTENERS: tuple[facts.FactListener, ...] = (
    fundraising_attribution,  # first: a settling gift's dead fundraiser link is gone before anyone reads it
    integration_events.store,
    integration_deliveries.fan_out,
    receipt_issuing,
    notification_listener.LISTENER,
    fundraising_milestones,
)
"""Who hears every announced fact, in this order (campaigns/facts.py): one tuple, built once, so
every call of wire() plugs the same object."""

PLUGS: tuple[Plug[Any], ...] = (
    facts.listeners,
    donation_hooks.listener,
    donation_hooks.matched_totals,
    donation_hooks.progress,
    donation_hooks.receipts,
    matching_hooks.clawbacks,
    matching_hooks.transfers,
    nonprofit_hooks.invite_mail,
    recurring_hooks.attribution,
)
"""Every plug of the domain; wire() fills each (tests/test_architecture.py checks it)."""


def wire() -> None:
    # Receipts, members' emails and outbound webhook events hear each fact in its transaction.
    facts.listeners.plug(FACT_LISTENERS)
    # A settled, refunded or disputed donation reserves, shrinks, voids or claws back matches.
    donation_hooks.listener.plug(engine)
    # A campaign's stored totals include its matched money, which only matching can count.
    donation_hooks.matched_totals.plug(matching_totals)
    # Open campaign pages hear a campaign's new totals and gifts (live progress).
    donation_hooks.progress.plug(giving_live)
    # A paid gift whose donor's email arrives after its confirmation gets its receipt then.
    donation_hooks.receipts.plug(receipt_issuing)
    # A paid match is clawed back through a transfer reversal from the payouts outbox.
    matching_hooks.clawbacks.plug(clawbacks)
    # An appeal of a rejected match is refused once its transfer went out.
    matching_hooks.transfers.plug(payout_repository)
    # A recurring gift made through a fundraiser's page counts for it at every installment.
    recurring_hooks.attribution.plug(fundraising_attribution)
    # The nonprofits API's invitations are emailed by notifications.
    nonprofit_hooks.invite_mail.plug(notification_invites.INVITE_EMAILS)
