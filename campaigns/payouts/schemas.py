"""Response shapes of the payouts and finance API; money is `*_minor` with `currency`."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from campaigns.payouts.finance import ProgramFinance
from campaigns.payouts.models import PayoutStatus, ReversalKind, ReversalStatus
from service.pagination import PageQuery


# The domain's figures, field for field (no docstring: the OpenAPI schema stays as it was).
class ProgramFinanceOut(ProgramFinance):
    pass


class FinanceOut(BaseModel):
    programs: list[ProgramFinanceOut]


class ReversalOut(BaseModel):
    id: uuid.UUID
    kind: ReversalKind
    cause: str
    status: ReversalStatus
    currency: str
    amount_minor: int
    receivable_minor: int
    open_receivable_minor: int
    stripe_reversal_id: str | None
    created_at: datetime
    settled_at: datetime | None


class PayoutOut(BaseModel):
    id: uuid.UUID
    match_id: uuid.UUID
    program_id: uuid.UUID
    nonprofit_id: uuid.UUID
    donation_id: uuid.UUID | None
    status: PayoutStatus
    currency: str
    amount_minor: int
    netted_minor: int
    transfer_minor: int
    transfer_group: str
    stripe_transfer_id: str | None
    attempts: int
    last_error: str | None
    created_at: datetime
    paid_at: datetime | None
    reversals: list[ReversalOut]


class PayoutList(BaseModel):
    data: list[PayoutOut]
    next_cursor: str | None


class PayoutQuery(PageQuery):
    status: PayoutStatus | None = None
    nonprofit_id: uuid.UUID | None = None


class OwnPayoutQuery(PageQuery):
    status: PayoutStatus | None = None
