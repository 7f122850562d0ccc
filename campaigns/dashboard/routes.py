"""Server-rendered dashboard for nonprofit members. Thin: parse form -> service -> render."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from campaigns.campaign import service as campaigns
from campaigns.dashboard import (
    account_pages,
    campaign_pages,
    connect_pages,
    cover_pages,
    export_pages,
    fundraiser_pages,
    match_pages,
    member_pages,
    notification_pages,
    password_pages,
    recurring_pages,
    reset_pages,
    share_pages,
    tax_pages,
    wall_pages,
    webhook_pages,
)
from campaigns.dashboard.auth import (
    PREFIX,
    SIGN_IN,
    end_session,
    start_session,
)
from campaigns.dashboard.language import keep_saved_language, saved_language, translator
from campaigns.matching import identity
from campaigns.nonprofits import service as nonprofits
from campaigns.nonprofits.models import Member
from campaigns.nonprofits.web import session_actor
from service.errors import RateLimited
from service.unit_of_work import UnitOfWork
from service.web import tokens
from service.web.context import client_address, database, settings
from service.web.pages import flash, form_values, read_form, redirect, render
from service.web.urls import path_for


async def home(request: Request) -> Response:
    return render(request, "dashboard/welcome.html")


async def login_page(request: Request) -> Response:
    return render(request, "dashboard/login.html", {"values": {}, "errors": {}})


async def login(request: Request) -> Response:
    _ = translator(request)
    form = form_values(await read_form(request))
    email = form.get("email", "").strip().lower()
    password = form.get("password", "")
    try:
        await SIGN_IN.check(request, email)
    except RateLimited as e:
        errors = {"form": _(e.detail)}
        response = render(
            request, "dashboard/login.html", {"values": {"email": email}, "errors": errors}, 429
        )
        response.headers["Retry-After"] = str(e.retry_after_s)
        return response
    language: str | None = None
    async with database(request).transaction() as session:
        member = await nonprofits.authenticate_member(session, email=email, password=password)
        if member is not None:
            await _remember_member_keys(request, session, member)
            language = await saved_language(session, member)
    if member is None:
        errors = {"form": _("that email and password do not match an account")}
        return render(request, "dashboard/login.html", {"values": {"email": email}, "errors": errors}, 400)
    await start_session(request, member)
    response = redirect(path_for(request, "dashboard:home"))
    SIGN_IN.remember(request, response, email)
    keep_saved_language(request, response, language)
    return response


async def _remember_member_keys(request: Request, session: UnitOfWork, member: Member) -> None:
    """The browser and network a member signs in from are their organisation's.

    Gifts from that browser never earn the organisation a match (a self-dealing owner giving
    "as a fan"); gifts from that network are held for a person to look at (an office or a
    home is shared by honest donors too, so a network alone never decides).
    """
    secret = settings(request).secret_key
    device = tokens.device_hash(secret, request.cookies.get(tokens.DEVICE_COOKIE))
    if device is not None:
        await identity.remember_nonprofit_key(
            session, nonprofit_id=member.nonprofit_id, key=identity.device_key(device)
        )
    network = tokens.client_hash(secret, client_address(request))
    await identity.remember_nonprofit_key(
        session, nonprofit_id=member.nonprofit_id, key=identity.network_key(network)
    )


async def logout(request: Request) -> Response:
    await read_form(request)
    await end_session(request)
    _ = translator(request)
    flash(request, _("You are signed out."))
    return redirect(path_for(request, "dashboard:login"))


async def dashboard_home(request: Request) -> Response:
    async with database(request).transaction() as session:
        actor = await session_actor(request, session)
        if actor is None:
            return redirect(path_for(request, "dashboard:login"))
        nonprofit = await nonprofits.get_own_nonprofit(session, actor=actor)
        rows = await campaigns.list_campaigns(session, actor=actor, status=None, limit=100, cursor=None)
    response = render(
        request, "dashboard/home.html", {"actor": actor, "nonprofit": nonprofit, "campaigns": rows[:100]}
    )
    return connect_pages.allow_connect_redirect(response, settings(request))


site_routes: list[BaseRoute] = [
    Route("/", home, methods=["GET"], name="dashboard:welcome"),
    *account_pages.site_routes,
    # The dashboard's own address: a Mount matches only below its prefix, never the bare one.
    Route(PREFIX, dashboard_home, methods=["GET"], name="dashboard:home"),
]
"""The dashboard's routes outside its mount."""

routes: list[BaseRoute] = [
    Route("/login", login_page, methods=["GET"], name="login"),
    Route("/login", login, methods=["POST"], name="login_submit"),
    Route("/logout", logout, methods=["POST"], name="logout"),
    *account_pages.routes,
    *campaign_pages.routes,
    *cover_pages.routes,
    *member_pages.routes,
    *password_pages.routes,
    *reset_pages.routes,
    *notification_pages.routes,
    *share_pages.routes,
    *match_pages.routes,
    *recurring_pages.routes,
    *connect_pages.routes,
    *export_pages.routes,
    *fundraiser_pages.routes,
    *tax_pages.routes,
    *wall_pages.routes,
    *webhook_pages.routes,
]
