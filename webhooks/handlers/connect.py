"""Connect: a nonprofit's account status (account.updated), transfers of destination charges and
payouts of matched money (transfer.* without a source charge)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.donations import settlement
from campaigns.nonprofits.connect import record_account_status
from campaigns.payouts import confirm
from service.logging import get_logger
from service.unit_of_work import UnitOfWork
from webhooks import inbox
from webhooks.events import StripeEvent, stripe_id
from webhooks.handlers import binding
from webhooks.handlers.common import amount, require

log = get_logger("goodloop.webhooks")


def _currently_due(obj: dict[str, Any]) -> list[str]:
    requirements = obj.get("requirements")
    due = requirements.get("currently_due") if isinstance(requirements, dict) else None
    return [str(item)[:200] for item in due if isinstance(item, str)] if isinstance(due, list) else []


async def account_updated(session: AsyncSession, event: StripeEvent) -> None:
    account_id = stripe_id(event.obj.get("id"))
    if account_id is None:
        return
    # Each event carries the whole account; an older one processed late must not win.
    if event.account and await inbox.newer_processed_exists(
        session, event_type=event.type, account=event.account, created_at=event.created_at, event_id=event.id
    ):
        log.info("stale account.updated skipped", event_id=event.id, account=account_id)
        return
    found = await record_account_status(
        session,
        stripe_account_id=account_id,
        charges_enabled=event.obj.get("charges_enabled") is True,
        payouts_enabled=event.obj.get("payouts_enabled") is True,
        details_submitted=event.obj.get("details_submitted") is True,
        requirements_due=_currently_due(event.obj),
    )
    # A connected account's event may overtake our own write of its id; the platform's own is not ours.
    require(found, what=f"the nonprofit with account {account_id}", required=event.account is not None)


async def transfer_changed(session: UnitOfWork, event: StripeEvent) -> None:
    """transfer.created / transfer.reversed: the transfer and the absolute amount reversed."""
    transfer_id = stripe_id(event.obj.get("id"))
    charge_id = stripe_id(event.obj.get("source_transaction"))
    if transfer_id is not None and charge_id is None:
        # No source charge: a payout of matched money (ours carry the match id in metadata).
        if not await confirm.record_transfer_event(session, transfer=event.obj, now=session.now()):
            log.info("transfer that is no payout of ours noted", event_id=event.id, transfer=transfer_id)
        return
    if transfer_id is None or charge_id is None:
        log.info("transfer without an id noted", event_id=event.id)
        return
    donation = await binding.bind(session, event, binding.transfer_claim(event.obj))
    if donation is None:
        return
    await settlement.record_transfer(
        session,
        ref=binding.ref(donation),
        stripe_transfer_id=transfer_id,
        amount_minor=amount(event.obj, "amount"),
        reversed_minor=amount(event.obj, "amount_reversed"),
    )
