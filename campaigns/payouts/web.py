"""The payout as the API shows it, for the payouts API and the payout.paid fact
(campaigns.payouts.announcements): one shape for both."""

from __future__ import annotations

from collections.abc import Sequence

from campaigns.payouts.models import Payout, PayoutReversal
from campaigns.payouts.schemas import PayoutOut, ReversalOut


def payout_out(payout: Payout, reversals: Sequence[PayoutReversal]) -> PayoutOut:
    return PayoutOut(
        id=payout.id,
        match_id=payout.match_id,
        program_id=payout.program_id,
        nonprofit_id=payout.nonprofit_id,
        donation_id=payout.donation_id,
        status=payout.status,
        currency=payout.currency,
        amount_minor=payout.amount_minor,
        netted_minor=payout.netted_minor,
        transfer_minor=payout.transfer_minor,
        transfer_group=payout.transfer_group,
        stripe_transfer_id=payout.stripe_transfer_id,
        attempts=payout.attempts,
        last_error=payout.last_error,
        created_at=payout.created_at,
        paid_at=payout.paid_at,
        reversals=[ReversalOut.model_validate(r, from_attributes=True) for r in reversals],
    )
