"""The payout fact: `payout.paid`, key `payout:{id}:paid`, announced where a verified transfer
event (or netting alone) confirms the payout (confirm.confirm_payout). A payout becomes paid once
(only an in-flight payout is confirmed), so replayed transfer events never announce again.
`data` is the payout as the payouts API shows it (web.payout_out), with its reversals so far
(an overpayment reversal opened at confirmation included)."""

from __future__ import annotations

from campaigns import facts
from campaigns.payouts import repository
from campaigns.payouts.models import Payout
from campaigns.payouts.web import payout_out
from service.unit_of_work import UnitOfWork


async def announce_paid(session: UnitOfWork, payout: Payout) -> None:
    reversals = await repository.reversals_of_payout(session, payout.id)
    await facts.announce(
        session,
        facts.Fact(
            type=facts.PAYOUT_PAID,
            key=f"payout:{payout.id}:paid",
            nonprofit_id=payout.nonprofit_id,
            subject_id=payout.id,
            occurred_at=session.now(),
            data=payout_out(payout, reversals).model_dump(mode="json"),
        ),
    )
