"""The donation facts: announced where settlement moves a donation, once per fact.

Settlement only moves a donation forward (STATUS_RANK, refunds from absolute totals, a dispute's
status never leaves won or lost), so each fact below is announced at the one step that makes it
true and a replayed, duplicated or reordered Stripe event finds nothing left to announce:

    donation.confirmed       donation:{id}:confirmed          first time the money arrived
    donation.refunded        donation:{id}:refund:{total}     refunded total grew to {total}
    donation.disputed        donation:{id}:disputed           first time a dispute is known
    donation.dispute_closed  donation:{id}:dispute_closed     the dispute became won or lost

`data` is the donation in the public API's shape (schemas.DonationOut), as it stands after the
step; listeners (campaigns.wiring.FACT_LISTENERS) key their rows by the fact's key.
"""

from __future__ import annotations

from campaigns import facts
from campaigns.donations.models import Donation
from campaigns.donations.schemas import donation_out
from service.unit_of_work import UnitOfWork

DISPUTE_CLOSED = frozenset({"won", "lost"})
"""Stripe's final dispute statuses: once there, a late `charge.dispute.updated` changes nothing."""
DISPUTE_OPENED = "needs_response"
"""What a dispute is taken to be when its event does not say (funds moved before it was created)."""


async def _announce(session: UnitOfWork, donation: Donation, fact_type: str, key: str) -> None:
    await facts.announce(
        session,
        facts.Fact(
            type=fact_type,
            key=key,
            nonprofit_id=donation.nonprofit_id,
            subject_id=donation.id,
            occurred_at=session.now(),
            data=donation_out(donation).model_dump(mode="json"),
        ),
    )


async def announce_settlement(
    session: UnitOfWork, donation: Donation, *, first_paid: bool, refunded_before_minor: int
) -> None:
    """Announce what one settlement step made true: first paid, then a larger refunded total."""
    if first_paid:
        await _announce(session, donation, facts.DONATION_CONFIRMED, f"donation:{donation.id}:confirmed")
    if donation.refunded_minor > refunded_before_minor:
        await _announce(
            session,
            donation,
            facts.DONATION_REFUNDED,
            f"donation:{donation.id}:refund:{donation.refunded_minor}",
        )


def move_dispute(donation: Donation, status: str | None) -> tuple[bool, bool]:
    """Record the dispute's status; returns (opened, closed): whether this step made the donation
    disputed for the first time, and whether it closed the dispute. A closed dispute stays closed."""
    current = donation.dispute_status
    if current in DISPUTE_CLOSED:
        return False, False
    target = status if status else (current or DISPUTE_OPENED)
    if target == current:
        return False, False
    donation.dispute_status = target[:32]
    return current is None, target in DISPUTE_CLOSED


async def announce_dispute(session: UnitOfWork, donation: Donation, *, opened: bool, closed: bool) -> None:
    if opened:
        await _announce(session, donation, facts.DONATION_DISPUTED, f"donation:{donation.id}:disputed")
    if closed:
        await _announce(
            session, donation, facts.DONATION_DISPUTE_CLOSED, f"donation:{donation.id}:dispute_closed"
        )
