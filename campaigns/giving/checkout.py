"""Starting a donation: a pending row, then a Stripe Checkout Session, then the row remembers it.

`start_checkout` spans two short transactions with the Stripe call between them, because no
network call may run inside an open transaction: the pending donation is committed first so
its id can be the idempotency key (`donation:{id}:checkout`) and the metadata Stripe echoes
back in webhooks. If Stripe fails, the donation is marked failed and the donor hears that the
payment provider is unavailable; nothing is left half-done that a webhook could confirm.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, cast
from urllib.parse import urlencode

import stripe
from sqlalchemy.ext.asyncio import AsyncSession
from stripe import RequestOptions
from stripe.params.checkout import SessionCreateParams
from stripe.params.checkout._session_create_params import SessionCreateParamsLineItem

from campaigns.campaign.errors import CampaignNotFound
from campaigns.campaign.models import Campaign
from campaigns.donations import hooks
from campaigns.donations.models import STATUS_RANK, Donation, DonationStatus, MessageStatus
from campaigns.fundraising import service as fundraising
from campaigns.giving import embedding, repository, wall
from campaigns.giving.availability import closed_reason, is_public
from campaigns.giving.errors import DonationsClosed, PaymentProviderUnavailable
from campaigns.giving.fees import fee_cover_minor
from campaigns.matching import quotes
from campaigns.matching.eligibility import Context
from campaigns.nonprofits.models import Nonprofit
from campaigns.recurring import checkout as recurring_checkout
from campaigns.recurring.checkout import Frequency
from campaigns.sharing import referral
from campaigns.sharing import service as sharing
from service import i18n
from service.db import Database
from service.errors import ValidationFailed
from service.money import (
    MoneyError,
    check_amount,
    format_money,
    maximum_charge_minor,
    minimum_charge_minor,
)
from service.stripe_gateway import request_options
from service.unit_of_work import UnitOfWork
from service.web.tokens import thanks_token


@dataclass(frozen=True)
class CheckoutRequest:
    """A donor's choices plus what the edge knows about the visit (hashes only, never raw)."""

    slug: str
    amount_minor: int
    currency: str
    email: str | None = None
    anonymous: bool = False
    cover_fees: bool = False
    message: str | None = None
    name: str | None = None
    """The donor's display name on the wall of support (campaigns.giving.wall)."""
    hide_amount: bool = False
    referral_cookies: Mapping[str, str] = field(default_factory=dict)
    """The browser's cookies named by `referral.cookie_name`; the campaign's one is read."""
    ref_code: str | None = None
    device_hash: str | None = None
    client_hash: str | None = None
    return_to: str | None = None
    """The embedding page's address; kept only on an origin the campaign allows (embedding.py)."""
    language: str | None = None
    """'nl' or 'en': the donor's language for receipts and other email (donations.language)."""
    frequency: Frequency = "once"
    """once, monthly or yearly: a recurring gift checks out as a Stripe subscription."""
    fundraiser: str | None = None
    """The slug of the live fundraiser page the gift is made through (campaigns.fundraising)."""


@dataclass(frozen=True)
class CheckoutStarted:
    donation_id: uuid.UUID
    checkout_url: str
    match_quotes: tuple[quotes.HeldQuote, ...] = ()
    message_status: MessageStatus = MessageStatus.SHOWN


@dataclass(frozen=True)
class PendingCheckout:
    donation: Donation
    campaign: Campaign
    nonprofit: Nonprofit
    match_quotes: tuple[quotes.HeldQuote, ...] = ()
    return_link: embedding.ReturnLink | None = None


CHECKOUT_LIFETIME = timedelta(hours=1)
"""How long a donor has on Checkout. Match quotes are held from the pool for as long, so a
short session keeps budget from sitting in abandoned checkouts (Stripe allows 30 min-24 h)."""


def amount_errors(
    campaign: Campaign, *, amount_minor: int, currency_code: str, cover_fees: bool = False
) -> dict[str, str]:
    """Per-field messages for an amount this campaign cannot take; empty when it can."""
    if currency_code.strip().lower() != campaign.currency:
        return {"currency": f"this campaign takes donations in {campaign.currency.upper()}"}
    try:
        check_amount(amount_minor, campaign.currency)
    except MoneyError as e:
        return {"amount_minor": str(e)}
    smallest = max(campaign.min_amount_minor, minimum_charge_minor(campaign.currency))
    if amount_minor < smallest:
        return {"amount_minor": f"the smallest donation is {format_money(smallest, campaign.currency)}"}
    if campaign.max_amount_minor is not None and amount_minor > campaign.max_amount_minor:
        largest = format_money(campaign.max_amount_minor, campaign.currency)
        return {"amount_minor": f"the largest donation is {largest}"}
    return _stripe_maximum_errors(campaign.currency, amount_minor=amount_minor, cover_fees=cover_fees)


def _stripe_maximum_errors(currency_code: str, *, amount_minor: int, cover_fees: bool) -> dict[str, str]:
    # Stripe refuses a charge above its maximum only once the donor is on its page; what it
    # charges is the gift plus the fee cover, so the cover counts towards the limit too.
    largest = maximum_charge_minor(currency_code)
    charged = amount_minor + (fee_cover_minor(amount_minor, currency_code) if cover_fees else 0)
    if charged <= largest:
        return {}
    limit = format_money(largest, currency_code)
    if cover_fees and amount_minor <= largest:
        return {"amount_minor": f"with the fee cover this is more than {limit}, the most one payment can be"}
    return {"amount_minor": f"the most one payment can be is {limit}; please split a larger gift"}


async def create_pending_donation(
    session: UnitOfWork, *, request: CheckoutRequest, secret_key: str, now: datetime
) -> PendingCheckout:
    """Check everything Stripe should never see rejected, then add the pending donation."""
    found = await repository.get_campaign_with_nonprofit(session, request.slug)
    if found is None or not is_public(found[0]):
        raise CampaignNotFound("no such campaign")
    campaign, nonprofit = found
    reason = closed_reason(campaign, nonprofit, now=now)
    if reason is not None:
        raise DonationsClosed(reason)
    errors = amount_errors(
        campaign,
        amount_minor=request.amount_minor,
        currency_code=request.currency,
        cover_fees=request.cover_fees,
    )
    if errors:
        raise ValidationFailed(errors)
    # A fundraiser's page names its own share link: the donor chose the page, so it wins over
    # any cookie. Otherwise first touch wins: the signed cookie from the first share link, else
    # the explicit code.
    attribution = (
        await fundraising.attribution_for_checkout(
            session, campaign_id=campaign.id, fundraiser_slug=request.fundraiser
        )
        if request.fundraiser
        else None
    )
    cookie = request.referral_cookies.get(referral.cookie_name(campaign.id))
    first_touch = referral.read_referral(secret_key, cookie, campaign_id=campaign.id)
    if attribution is not None:
        referral_link_id: uuid.UUID | None = attribution.share_link_id
    else:
        # Came through a fundraiser's share link and gave on the campaign page: theirs too, while
        # the page is live; a hidden or ended page's link refers nothing (fundraising decides).
        through_link = await fundraising.referral_through_link(
            session,
            campaign_id=campaign.id,
            link_id=await sharing.referral_link_id(
                session, campaign_id=campaign.id, link_id=first_touch, code=request.ref_code
            ),
        )
        referral_link_id, attribution = through_link.link_id, through_link.attribution
    destination = nonprofit.stripe_account_id if nonprofit.charges_enabled else None
    donation = Donation(
        id=uuid.uuid4(),
        campaign_id=campaign.id,
        nonprofit_id=nonprofit.id,
        amount_minor=request.amount_minor,
        fee_cover_minor=fee_cover_minor(request.amount_minor, campaign.currency) if request.cover_fees else 0,
        currency=campaign.currency,
        status=DonationStatus.PENDING,
        donor_email=request.email,
        anonymous=request.anonymous,
        message=request.message or None,
        donor_name=request.name or None,
        hide_amount=request.hide_amount,
        language=request.language,
        recurring_interval=recurring_checkout.interval_of(request.frequency),
        installment=1 if request.frequency != "once" else None,
        message_status=wall.screened_status(name=request.name, message=request.message),
        referral_link_id=referral_link_id,
        device_hash=request.device_hash,
        client_hash=request.client_hash,
        destination_account_id=destination,
    )
    session.add(donation)
    await session.flush()
    if attribution is not None:
        await fundraising.attribute_donation(
            session, donation_id=donation.id, campaign_id=campaign.id, attribution=attribution
        )
    held = await quotes.hold_quotes(
        session,
        donation=donation,
        ctx=Context(campaign=campaign, nonprofit=nonprofit),
        at=now,
        expires_at=checkout_expires_at(donation),
    )
    return PendingCheckout(
        donation=donation,
        campaign=campaign,
        nonprofit=nonprofit,
        match_quotes=tuple(held),
        return_link=embedding.return_link(request.return_to, campaign.allowed_embed_origins),
    )


class ReturnUrls(Protocol):
    """Where Stripe sends the donor back: absolute URLs of our pages, which the web layer
    builds from route names (campaigns/giving/pages.py, PublicReturnUrls)."""

    def campaign(self, slug: str) -> str: ...

    def thanks(self, slug: str) -> str: ...


def checkout_params(pending: PendingCheckout, *, urls: ReturnUrls, secret_key: str) -> SessionCreateParams:
    donation, campaign = pending.donation, pending.campaign
    donation_id = str(donation.id)
    metadata = {"donation_id": donation_id, "campaign_id": str(campaign.id)}
    language = i18n.normalise(donation.language) or i18n.DEFAULT_LANGUAGE
    _ = i18n.translations(language).gettext
    line_items: list[SessionCreateParamsLineItem] = [
        _line_item(
            donation.currency, donation.amount_minor, _("Donation to %(title)s") % {"title": campaign.title}
        )
    ]
    if donation.fee_cover_minor:
        line_items.append(_line_item(donation.currency, donation.fee_cover_minor, _("Processing fee cover")))
    token = thanks_token(secret_key, donation.id)
    if donation.recurring_interval is not None:
        # One price for gift and fee cover: a subscription's Checkout takes one recurring line.
        line_items = [
            recurring_checkout.line_item(
                donation.currency,
                donation.charged_minor,
                interval=donation.recurring_interval,
                name=recurring_checkout.product_name(
                    campaign.title, interval=donation.recurring_interval, language=language
                ),
            )
        ]
    params: SessionCreateParams = {
        "mode": "payment",
        "submit_type": "donate",
        "line_items": line_items,
        "client_reference_id": donation_id,
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "success_url": (
            f"{urls.thanks(campaign.slug)}?donation={donation_id}&t={token}&session_id={{CHECKOUT_SESSION_ID}}"
        ),
        "cancel_url": urls.campaign(campaign.slug),
        # Checkout speaks the language the donor gave in (the page's, posted with the form).
        "locale": "nl" if language == "nl" else "en",
    }
    if pending.return_link is not None:
        # Survives the round trip in the URL; the thank-you page checks it again (embedding.py).
        params["success_url"] += "&" + urlencode({"return_to": pending.return_link.url})
    params["expires_at"] = int(checkout_expires_at(donation).timestamp())
    if pending.match_quotes:
        params["custom_text"] = {"submit": {"message": match_message(pending.match_quotes, language)[:1200]}}
    if donation.donor_email:
        params["customer_email"] = donation.donor_email
    if donation.destination_account_id:
        params["payment_intent_data"]["transfer_data"] = {"destination": donation.destination_account_id}
    if donation.recurring_interval is not None:
        recurring_checkout.as_subscription(params, metadata, destination=donation.destination_account_id)
    return params


def checkout_expires_at(donation: Donation) -> datetime:
    """Derived from the donation, so a retried create sends the same parameters (idempotency)."""
    return donation.created_at + CHECKOUT_LIFETIME


def match_message(held: tuple[quotes.HeldQuote, ...], language: str = i18n.DEFAULT_LANGUAGE) -> str:
    _ = i18n.translations(language).gettext
    parts = [
        _("%(amount)s from %(program)s")
        % {"amount": i18n.format_money(q.amount_minor, q.currency, language), "program": q.program_name}
        for q in held
    ]
    return _("Your gift unlocks a match: %(matches)s.") % {"matches": "; ".join(parts)}


def _line_item(currency_code: str, amount_minor: int, name: str) -> SessionCreateParamsLineItem:
    return {
        "quantity": 1,
        "price_data": {
            "currency": currency_code,
            "unit_amount": amount_minor,
            "product_data": {"name": name},
        },
    }


def checkout_options(donation_id: uuid.UUID) -> RequestOptions:
    return cast(RequestOptions, request_options(f"donation:{donation_id}:checkout"))


async def open_checkout_session(
    client: stripe.StripeClient, pending: PendingCheckout, *, urls: ReturnUrls, secret_key: str
) -> stripe.checkout.Session:
    """Create (or, on a retry, get back) the donation's Checkout Session. Never inside a transaction."""
    params = checkout_params(pending, urls=urls, secret_key=secret_key)
    return await client.v1.checkout.sessions.create_async(
        params, options=checkout_options(pending.donation.id)
    )


async def record_checkout_session(
    session: AsyncSession, *, donation_id: uuid.UUID, stripe_checkout_session_id: str, checkout_url: str
) -> None:
    donation = await repository.lock_donation(session, donation_id)
    if donation is None:
        return
    donation.stripe_checkout_session_id = stripe_checkout_session_id
    donation.checkout_url = checkout_url


async def mark_checkout_failed(session: UnitOfWork, *, donation_id: uuid.UUID) -> None:
    donation = await repository.lock_donation(session, donation_id)
    # Forward only: a webhook that already moved the donation on wins.
    if donation is not None and STATUS_RANK[donation.status] < STATUS_RANK[DonationStatus.FAILED]:
        donation.status = DonationStatus.FAILED
        # The match quoted for this checkout goes back to the pool at once.
        await hooks.on_donation_checkout_closed(session, donation)


async def start_checkout(
    database: Database,
    client: stripe.StripeClient,
    *,
    request: CheckoutRequest,
    urls: ReturnUrls,
    secret_key: str,
) -> CheckoutStarted:
    # Each transaction is a unit of work that runs again from the start, with a fresh session,
    # if PostgreSQL aborts it for a deadlock (docs/architecture.md, "Transactions and retries").
    pending = await database.run(
        "checkout_start",
        lambda session: create_pending_donation(
            session, request=request, secret_key=secret_key, now=session.now()
        ),
    )
    donation_id = pending.donation.id

    async def failed(session: UnitOfWork) -> None:
        await mark_checkout_failed(session, donation_id=donation_id)

    try:
        checkout = await open_checkout_session(client, pending, urls=urls, secret_key=secret_key)
    except stripe.StripeError as e:
        await database.run("checkout_failed", failed)
        raise _unavailable(e) from e
    if not checkout.url:
        await database.run("checkout_failed", failed)
        raise PaymentProviderUnavailable("the payment provider returned no checkout page", status_code=502)
    url = checkout.url
    await database.run(
        "checkout_recorded",
        lambda session: record_checkout_session(
            session, donation_id=donation_id, stripe_checkout_session_id=checkout.id, checkout_url=url
        ),
    )
    return CheckoutStarted(
        donation_id=donation_id,
        checkout_url=checkout.url,
        match_quotes=pending.match_quotes,
        message_status=pending.donation.message_status,
    )


def _unavailable(error: stripe.StripeError) -> PaymentProviderUnavailable:
    # Unreachable or failing on its side: try again later (503). Refused our request: 502.
    reachable = not isinstance(error, stripe.APIConnectionError) and (error.http_status or 500) < 500
    return PaymentProviderUnavailable(
        "our payment provider is not available right now; nothing was charged, please try again in a minute",
        status_code=502 if reachable else 503,
    )
