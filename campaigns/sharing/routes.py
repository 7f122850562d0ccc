"""GET /s/{code}: count the visit, bind the first-touch referral cookie, go to the campaign."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from campaigns.sharing import referral, service
from service.errors import NotFound
from service.web.context import client_address, database, settings
from service.web.urls import path_for


async def follow_share_link(request: Request) -> Response:
    code: str = request.path_params["code"]
    config = settings(request)
    # One lookup, at most one INSERT ... ON CONFLICT DO NOTHING and one counter UPDATE.
    async with database(request).transaction() as session:
        target = await service.record_visit(
            session,
            code=code,
            address=client_address(request),
            user_agent=request.headers.get("user-agent", ""),
            secret_key=config.secret_key,
            now=session.now(),
        )
    if target is None:
        raise NotFound("this share link does not exist")
    response = RedirectResponse(
        path_for(request, "giving:campaign", slug=target.campaign_slug), status_code=302
    )
    response.headers["Cache-Control"] = "no-store"
    name = referral.cookie_name(target.campaign_id)
    bound = referral.read_referral(
        config.secret_key, request.cookies.get(name), campaign_id=target.campaign_id
    )
    if bound is None:
        response.set_cookie(
            name,
            referral.sign_referral(config.secret_key, link_id=target.link_id, campaign_id=target.campaign_id),
            max_age=int(referral.REFERRAL_WINDOW.total_seconds()),
            httponly=True,
            samesite="lax",
            secure=config.is_production,
        )
    return response


routes = [Route("/s/{code:str}", follow_share_link, methods=["GET"], name="sharing:follow")]
