"""Disputes: the donation is disputed; withdrawn and reinstated funds are booked once each."""

from __future__ import annotations

from campaigns.donations import settlement
from service.logging import get_logger
from service.unit_of_work import UnitOfWork
from webhooks.events import StripeEvent
from webhooks.handlers import binding
from webhooks.handlers.common import amount

log = get_logger("goodloop.webhooks")


def _funds(event: StripeEvent) -> tuple[bool, bool]:
    """(withdrawn, reinstated) as far as this event tells."""
    if event.type == "charge.dispute.funds_withdrawn":
        return True, False
    if event.type == "charge.dispute.funds_reinstated":
        return True, True
    if event.type == "charge.dispute.closed" and event.obj.get("status") == "lost":
        return True, False
    return False, False


async def dispute_changed(session: UnitOfWork, event: StripeEvent) -> None:
    dispute_id = event.obj.get("id")
    status = event.obj.get("status")
    # Inquiries (warning_*) move no money and may never become disputes: note, do not settle.
    if not isinstance(dispute_id, str) or (isinstance(status, str) and status.startswith("warning_")):
        log.info("dispute inquiry noted", event_id=event.id, status=status)
        return
    donation = await binding.bind(session, event, binding.child_of_charge_claim(event.obj))
    if donation is None:
        return
    withdrawn, reinstated = _funds(event)
    await settlement.record_dispute(
        session,
        ref=binding.ref(donation),
        stripe_dispute_id=dispute_id,
        amount_minor=amount(event.obj, "amount"),
        withdrawn=withdrawn,
        reinstated=reinstated,
        status=status if isinstance(status, str) else None,
    )
