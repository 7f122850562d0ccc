"""Connecting a nonprofit's Stripe Express account: create it once, then send the owner to Stripe.

Each step is a short transaction or a Stripe call, never both at once. The account is created
with the idempotency key `nonprofit:{id}:account`, so a double click or a retry after a
timeout gets the same account back instead of a second one; its id is stored before the owner
is sent to Stripe. The capability flags are refreshed by retrieving the account when the
owner comes back, and kept current afterwards by `account.updated` webhooks.
"""

from __future__ import annotations

import uuid
from typing import cast

import stripe
from sqlalchemy.ext.asyncio import AsyncSession
from stripe import RequestOptions

from campaigns.nonprofits import connect, repository
from campaigns.nonprofits.actors import Actor
from campaigns.nonprofits.errors import NonprofitNotFound
from campaigns.nonprofits.models import MemberRole, Nonprofit
from service.errors import DomainError
from service.stripe_gateway import request_options


class StripeConnectUnavailable(DomainError):
    code = "payment_provider_unavailable"
    status_code = 503


async def own_nonprofit(
    session: AsyncSession, *, actor: Actor, role: MemberRole = MemberRole.OWNER
) -> Nonprofit:
    actor.require(role)
    nonprofit = await repository.get_nonprofit(session, actor.nonprofit_id)
    if nonprofit is None:
        raise NonprofitNotFound("no such nonprofit")
    return nonprofit


async def create_express_account(client: stripe.StripeClient, nonprofit: Nonprofit) -> str:
    try:
        account = await client.v1.accounts.create_async(
            {
                "type": "express",
                "country": nonprofit.country,
                "email": nonprofit.contact_email,
                "business_type": "non_profit",
                "metadata": {"nonprofit_id": str(nonprofit.id)},
            },
            options=cast(RequestOptions, request_options(f"nonprofit:{nonprofit.id}:account")),
        )
    except stripe.StripeError as e:
        raise StripeConnectUnavailable(
            "Stripe is not available right now; please try again in a minute"
        ) from e
    return account.id


async def store_account(session: AsyncSession, *, nonprofit_id: uuid.UUID, stripe_account_id: str) -> str:
    """Keep the first account stored: a concurrent click that raced us must not replace it."""
    nonprofit = await repository.lock_nonprofit(session, nonprofit_id)
    if nonprofit is None:
        raise NonprofitNotFound("no such nonprofit")
    if nonprofit.stripe_account_id is None:
        nonprofit.stripe_account_id = stripe_account_id
    return nonprofit.stripe_account_id


async def onboarding_url(
    client: stripe.StripeClient, *, stripe_account_id: str, refresh_url: str, return_url: str
) -> str:
    """Stripe's onboarding page for the account; it sends the owner back to `return_url`, or
    to `refresh_url` when the link expired (both absolute, built by the dashboard)."""
    try:
        link = await client.v1.account_links.create_async(
            {
                "account": stripe_account_id,
                "type": "account_onboarding",
                "refresh_url": refresh_url,
                "return_url": return_url,
            }
        )
    except stripe.StripeError as e:
        raise StripeConnectUnavailable(
            "Stripe is not available right now; please try again in a minute"
        ) from e
    return link.url


async def fetch_account(client: stripe.StripeClient, stripe_account_id: str) -> stripe.Account:
    try:
        return await client.v1.accounts.retrieve_async(stripe_account_id)
    except stripe.StripeError as e:
        raise StripeConnectUnavailable(
            "Stripe is not available right now; please try again in a minute"
        ) from e


async def record_account(session: AsyncSession, account: stripe.Account) -> Nonprofit | None:
    requirements = account.requirements
    due = list(requirements.currently_due or []) if requirements is not None else []
    return await connect.record_account_status(
        session,
        stripe_account_id=account.id,
        charges_enabled=bool(account.charges_enabled),
        payouts_enabled=bool(account.payouts_enabled),
        details_submitted=bool(account.details_submitted),
        requirements_due=due,
    )
