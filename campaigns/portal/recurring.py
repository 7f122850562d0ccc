"""A donor's recurring gifts in the portal: list them, change the amount, cancel, update the card.

Stripe keeps the subscription; our books follow Stripe's webhooks only (campaigns.recurring).
So a change runs in three steps, never with a network call inside a transaction:

1. a transaction checks the donor owns the gift and may change it, and records the request
   (`donor_recurring_changes`); the row's id makes the idempotency key
   (`recurring:{gift}:amount:{change}`, `recurring:{gift}:cancel:{change}`), so a retried
   request never applies twice and a later change (10 -> 20 -> 10) is never a replay;
2. the Stripe call;
3. a transaction marks the request sent (or failed, when Stripe answered with a refusal).
   When Stripe could not be reached or did not answer in time (after the client's own
   retries, each with the same idempotency key), the change may have been applied or not:
   the row stays neither sent nor failed, and the donor is told it is not confirmed yet
   (StripeUnconfirmed), not that nothing changed; Stripe's webhook settles it if it was.

Until `customer.subscription.updated|deleted` changes the gift, the portal shows the request
as pending ("Cancelling...", "Changing to EUR 20.00..."): what the donor asked for, honestly
labelled as not done yet.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, cast

import sqlalchemy as sa
import stripe
from sqlalchemy.ext.asyncio import AsyncSession
from stripe import RequestOptions
from stripe.params import SubscriptionUpdateParams
from stripe.params.billing_portal import SessionCreateParams as PortalSessionParams

from campaigns.campaign.models import Campaign
from campaigns.giving.checkout import amount_errors
from campaigns.nonprofits.models import Nonprofit
from campaigns.portal.models import ChangeKind, RecurringChange
from campaigns.recurring.models import STOPPED, RecurringGift
from service.db import Database
from service.errors import Conflict, NotFound, ValidationFailed
from service.stripe_gateway import request_options
from service.unit_of_work import UnitOfWork


class GiftNotFound(NotFound):
    code = "recurring_gift_not_found"


class GiftStopped(Conflict):
    code = "recurring_gift_stopped"


class StripeRefused(Conflict):
    code = "stripe_refused"
    status_code = 502


class StripeUnconfirmed(Conflict):
    """Stripe did not answer (a lost connection, a timeout): the change may or may not be made."""

    code = "stripe_unconfirmed"
    status_code = 502


@dataclass(frozen=True)
class RecurringRow:
    gift: RecurringGift
    campaign_title: str
    campaign_slug: str
    nonprofit_name: str
    min_amount_minor: int
    pending_amount_minor: int | None
    """A new amount the donor asked for that Stripe has not confirmed yet."""
    cancelling: bool
    """The donor asked to cancel; Stripe has not confirmed it yet."""

    @property
    def stopped(self) -> bool:
        return self.gift.status in STOPPED


@dataclass(frozen=True)
class ChangeToSend:
    change_id: uuid.UUID
    gift_id: uuid.UUID
    kind: ChangeKind
    stripe_subscription_id: str
    currency: str
    interval: str
    amount_minor: int | None
    fee_cover_minor: int

    @property
    def idempotency_key(self) -> str:
        return f"recurring:{self.gift_id}:{self.kind.value}:{self.change_id}"


def _mine(email: str) -> sa.ColumnElement[bool]:
    return sa.func.lower(RecurringGift.donor_email) == email


async def recurring_for_email(session: AsyncSession, *, email: str) -> Sequence[RecurringRow]:
    rows = (
        await session.execute(
            sa.select(RecurringGift, Campaign.title, Campaign.slug, Nonprofit.name, Campaign.min_amount_minor)
            .join(Campaign, Campaign.id == RecurringGift.campaign_id)
            .join(Nonprofit, Nonprofit.id == RecurringGift.nonprofit_id)
            .where(_mine(email))
            .order_by(RecurringGift.started_at.desc(), RecurringGift.id)
        )
    ).all()
    changes = await _latest_sent_changes(session, [row[0].id for row in rows])
    out = []
    for gift, title, slug, nonprofit_name, min_amount in rows:
        amount = changes.get((gift.id, ChangeKind.AMOUNT))
        pending_amount = amount.amount_minor if amount is not None else None
        out.append(
            RecurringRow(
                gift=gift,
                campaign_title=title,
                campaign_slug=slug,
                nonprofit_name=nonprofit_name,
                min_amount_minor=min_amount,
                pending_amount_minor=pending_amount if pending_amount != gift.amount_minor else None,
                cancelling=(gift.id, ChangeKind.CANCEL) in changes and gift.status not in STOPPED,
            )
        )
    return out


async def _latest_sent_changes(
    session: AsyncSession, gift_ids: list[uuid.UUID]
) -> dict[tuple[uuid.UUID, ChangeKind], RecurringChange]:
    if not gift_ids:
        return {}
    changes = await session.scalars(
        sa.select(RecurringChange)
        .where(
            RecurringChange.recurring_gift_id.in_(gift_ids),
            RecurringChange.sent_at.is_not(None),
            RecurringChange.failed_at.is_(None),
        )
        .order_by(RecurringChange.created_at, RecurringChange.id)
    )
    return {(c.recurring_gift_id, c.kind): c for c in changes}  # the latest of each kind wins


async def owned_gift(
    session: AsyncSession, *, email: str, gift_id: uuid.UUID
) -> tuple[RecurringGift, Campaign]:
    """The donor's own gift, or GiftNotFound: someone else's gift is as unknown as no gift."""
    found = (
        await session.execute(
            sa.select(RecurringGift, Campaign)
            .join(Campaign, Campaign.id == RecurringGift.campaign_id)
            .where(RecurringGift.id == gift_id, _mine(email))
        )
    ).first()
    if found is None:
        raise GiftNotFound("no such recurring gift")
    return found[0], found[1]


async def request_change(
    session: UnitOfWork, *, email: str, gift_id: uuid.UUID, kind: ChangeKind, amount_minor: int | None = None
) -> ChangeToSend:
    """Step 1: check and record the donor's request (see the module docstring)."""
    gift, campaign = await owned_gift(session, email=email, gift_id=gift_id)
    if gift.status in STOPPED:
        raise GiftStopped("this recurring gift has already stopped")
    fee_cover = 0
    if kind is ChangeKind.AMOUNT:
        assert amount_minor is not None
        errors = amount_errors(
            campaign,
            amount_minor=amount_minor,
            currency_code=gift.currency,
            cover_fees=gift.fee_cover_minor > 0,
        )
        if errors:
            raise ValidationFailed({"amount": next(iter(errors.values()))})
        # The fee cover stays what it was: Stripe's price is the new gift plus that cover, and
        # campaigns.recurring reads the gift back from the price the same way.
        fee_cover = gift.fee_cover_minor
    change = RecurringChange(
        recurring_gift_id=gift.id,
        email=email,
        kind=kind,
        amount_minor=amount_minor if kind is ChangeKind.AMOUNT else None,
    )
    session.add(change)
    await session.flush()
    return ChangeToSend(
        change_id=change.id,
        gift_id=gift.id,
        kind=kind,
        stripe_subscription_id=gift.stripe_subscription_id,
        currency=gift.currency,
        interval=gift.interval.value,
        amount_minor=amount_minor,
        fee_cover_minor=fee_cover,
    )


async def send_change(client: stripe.StripeClient, change: ChangeToSend) -> None:
    """Step 2, outside any transaction: ask Stripe. Raises stripe.StripeError."""
    options = cast(RequestOptions, request_options(change.idempotency_key))
    subscriptions = client.v1.subscriptions
    if change.kind is ChangeKind.CANCEL:
        await subscriptions.cancel_async(change.stripe_subscription_id, options=options)
        return
    assert change.amount_minor is not None
    subscription = await subscriptions.retrieve_async(change.stripe_subscription_id)
    item = subscription["items"]["data"][0]
    product = item["price"]["product"]
    params: SubscriptionUpdateParams = {
        "items": [
            {
                "id": item["id"],
                "price_data": {
                    "currency": change.currency,
                    "unit_amount": change.amount_minor + change.fee_cover_minor,
                    "product": product if isinstance(product, str) else product["id"],
                    "recurring": {"interval": cast(Literal["month", "year"], change.interval)},
                },
            }
        ],
        "proration_behavior": "none",
        # What the new price is made of, for the webhook that changes our books.
        "metadata": {
            "amount_minor": str(change.amount_minor),
            "fee_cover_minor": str(change.fee_cover_minor),
        },
    }
    await subscriptions.update_async(change.stripe_subscription_id, params, options=options)


async def record_outcome(session: UnitOfWork, *, change_id: uuid.UUID, sent: bool) -> None:
    """Step 3: the request went to Stripe (pending until its webhook) or Stripe refused it."""
    column = RecurringChange.sent_at if sent else RecurringChange.failed_at
    await session.execute(
        sa.update(RecurringChange).where(RecurringChange.id == change_id).values({column.key: session.now()})
    )


async def change_gift(
    database: Database,
    client: stripe.StripeClient,
    *,
    email: str,
    gift_id: uuid.UUID,
    kind: ChangeKind,
    amount_minor: int | None = None,
) -> None:
    """All three steps; raises GiftNotFound, GiftStopped, ValidationFailed, StripeRefused or
    StripeUnconfirmed."""
    change = await database.run(
        "portal_recurring_change",
        lambda session: request_change(
            session, email=email, gift_id=gift_id, kind=kind, amount_minor=amount_minor
        ),
    )
    try:
        await send_change(client, change)
    except stripe.APIConnectionError as e:
        # Stripe may have applied it before the answer was lost: not failed, not confirmed.
        raise StripeUnconfirmed(
            "Stripe did not answer in time, so we could not confirm the change yet; it shows here "
            "once Stripe confirms it. If it does not within a few minutes, please try again"
        ) from e
    except stripe.StripeError as e:
        await database.run(
            "portal_recurring_failed",
            lambda session: record_outcome(session, change_id=change.change_id, sent=False),
        )
        raise StripeRefused("Stripe did not take the change; nothing changed, please try again later") from e
    await database.run(
        "portal_recurring_sent",
        lambda session: record_outcome(session, change_id=change.change_id, sent=True),
    )


async def billing_portal_url(
    database: Database,
    client: stripe.StripeClient,
    *,
    email: str,
    gift_id: uuid.UUID,
    return_url: str,
    language: str,
    key_scope: str,
) -> str:
    """A Stripe Billing Portal session for the gift's customer (to update the card).

    `key_scope` ties the idempotency key to the donor's session, the clock's five-minute slot
    and the language: a double click reuses one portal session, a later visit (or another
    language: Stripe refuses a key reused with another locale) gets a fresh one.
    """
    async with database.unit_of_work() as session:
        gift, _ = await owned_gift(session, email=email, gift_id=gift_id)
    if gift.stripe_customer_id is None:
        raise GiftStopped("this recurring gift has no card on file at Stripe")
    params: PortalSessionParams = {
        "customer": gift.stripe_customer_id,
        "return_url": return_url,
        "locale": cast(Literal["nl", "en"], language),
    }
    options = cast(RequestOptions, request_options(f"recurring:{gift.id}:billing-portal:{key_scope}"))
    try:
        portal = await client.v1.billing_portal.sessions.create_async(params, options=options)
    except stripe.StripeError as e:
        raise StripeRefused(
            "Stripe's billing portal is not available right now; please try again later"
        ) from e
    return portal.url
