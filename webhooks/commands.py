"""Operator commands (edges owning their transactions): replay an event, check the books, reconcile."""

from __future__ import annotations

from datetime import datetime

import stripe

from campaigns.donations.checks import check_books
from campaigns.matching.checks import check_pools
from campaigns.payouts.checks import check_payouts
from service.db import Database
from webhooks import inbox
from webhooks.models import WebhookEvent
from webhooks.reconcile import Reconciled, reconcile


async def replay_event(database: Database, *, key: str) -> WebhookEvent | None:
    """Queue a stored event (by Stripe event id or row id) to run again; None when unknown."""
    async with database.transaction() as session:
        event = await inbox.get_event(session, key=key)
        if event is None:
            return None
        return await inbox.replay(session, event=event, now=session.now())


async def check_ledger(database: Database) -> list[str]:
    async with database.transaction() as session:
        return await check_books(session) + await check_pools(session) + await check_payouts(session)


async def reconcile_events(database: Database, client: stripe.StripeClient, *, since: datetime) -> Reconciled:
    return await reconcile(database, client, since=since)
