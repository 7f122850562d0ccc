"""POST /api/v1/public/campaigns/{slug}/checkout: the JSON twin of the donate form."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from campaigns.donations.models import MessageStatus
from campaigns.engagement.recorder import recorder
from campaigns.giving import checkout, summary_routes
from campaigns.giving.pages import PublicReturnUrls, checkout_request, enforce_checkout_limits
from campaigns.giving.schemas import CheckoutIn, CheckoutOut, MatchQuoteOut
from service.web.api import ApiRoutes, Operation, json_response, parse_json
from service.web.context import database, settings, stripe_client


async def start_checkout(request: Request) -> Response:
    slug: str = request.path_params["slug"]
    data = await parse_json(request, CheckoutIn)
    await enforce_checkout_limits(request, data.email)
    config = settings(request)
    started = await checkout.start_checkout(
        database(request),
        stripe_client(request),
        request=checkout_request(request, slug, data),
        urls=PublicReturnUrls(request),
        secret_key=config.secret_key,
    )
    recorder(request).record_checkout_started(slug)
    out = CheckoutOut(
        donation_id=started.donation_id,
        checkout_url=started.checkout_url,
        match_quotes=[
            MatchQuoteOut(program_name=q.program_name, currency=q.currency, amount_minor=q.amount_minor)
            for q in started.match_quotes
        ],
        message_status="pending" if started.message_status is MessageStatus.PENDING else "shown",
    )
    return json_response(out, 201)


def build() -> ApiRoutes:
    api = ApiRoutes()
    api.add(
        start_checkout,
        Operation(
            "POST",
            "/public/campaigns/{slug}/checkout",
            "Start a donation: a pending donation and a Stripe Checkout Session to redirect the donor to",
            "giving",
            body=CheckoutIn,
            response=CheckoutOut,
            status_code=201,
            auth=None,
            errors=(400, 404, 409, 422, 429, 502, 503),
        ),
    )
    api.add(
        summary_routes.campaign_summary,
        Operation(
            "GET",
            "/public/campaigns/{slug}",
            "A campaign's public summary (totals, matched money, live match offers, challenges) for"
            " widgets; cacheable (ETag, 15 s), readable from any origin",
            "giving",
            response=summary_routes.CampaignSummaryOut,
            auth=None,
            errors=(404,),
        ),
    )
    return api
