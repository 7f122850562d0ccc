"""The admin console at /admin: sign-in and sign-out here, each page family in its own module.

Other console modules export `routes` lists, paths relative to the console's mount
(service.app mounts `routes` at PREFIX, named "console"); each is included below with one line.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from campaigns.console import (
    audit_pages,
    export_pages,
    finance_pages,
    fundraiser_pages,
    mismatch_pages,
    overview,
    queue_pages,
    reset_pages,
    review_pages,
    risk_pages,
    spike_pages,
)
from campaigns.console.auth import (
    PREFIX,
    SIGN_IN,
    current_admin,
    end_admin_session,
    safe_next,
    start_admin_session,
)
from service.auth.admins import authenticate_admin_password
from service.errors import DomainError, RateLimited
from service.web.context import database
from service.web.pages import flash, form_values, read_form, redirect, render
from service.web.urls import path_for

LOGIN_TEMPLATE = "console/login.html"


async def login_page(request: Request) -> Response:
    next_url = safe_next(request, request.query_params.get("next"))
    async with database(request).transaction() as session:
        admin = await current_admin(request, session)
    if admin is not None:
        return redirect(next_url)
    return render(request, LOGIN_TEMPLATE, {"values": {}, "errors": {}, "next": next_url}, language="en")


async def login(request: Request) -> Response:
    form = form_values(await read_form(request))
    email = form.get("email", "").strip().lower()
    next_url = safe_next(request, form.get("next"))
    values = {"email": email}
    try:
        await SIGN_IN.check(request, email)
    except RateLimited as e:
        context = {"values": values, "errors": {"form": e.detail}, "next": next_url}
        response = render(request, LOGIN_TEMPLATE, context, 429, language="en")
        response.headers["Retry-After"] = str(e.retry_after_s)
        return response
    try:
        async with database(request).transaction() as session:
            admin = await authenticate_admin_password(session, email=email, password=form.get("password", ""))
    except DomainError as e:
        context = {"values": values, "errors": {"form": e.detail}, "next": next_url}
        return render(request, LOGIN_TEMPLATE, context, e.status_code, language="en")
    await start_admin_session(request, admin)
    response = redirect(next_url)
    SIGN_IN.remember(request, response, email)
    return response


async def logout(request: Request) -> Response:
    await read_form(request)
    await end_admin_session(request)
    flash(request, "You are signed out.")
    return redirect(path_for(request, "console:login"))


site_routes: list[BaseRoute] = [
    # The console's own address: a Mount matches only below its prefix, never the bare one.
    Route(PREFIX, overview.overview_page, methods=["GET"], name="console:overview"),
]
"""The console's routes outside its mount."""

routes: list[BaseRoute] = [
    Route("/login", login_page, methods=["GET"], name="login"),
    Route("/login", login, methods=["POST"], name="login_submit"),
    Route("/logout", logout, methods=["POST"], name="logout"),
    *reset_pages.routes,
    *queue_pages.routes,
    *fundraiser_pages.routes,
    *audit_pages.routes,
    *export_pages.routes,
    *spike_pages.routes,
    *review_pages.routes,
    *risk_pages.routes,
    *finance_pages.routes,
    *mismatch_pages.routes,
]
