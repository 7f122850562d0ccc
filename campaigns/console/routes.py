"""The admin console at /admin: sign-in and sign-out here, each page family in its own module.

Other console modules export `routes` lists; each is included below with one line.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from campaigns.console import audit_pages, export_pages, mismatch_pages, overview, queue_pages, review_routes
from campaigns.console.auth import (
    LOGIN_URL,
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

LOGIN_TEMPLATE = "console/login.html"


async def login_page(request: Request) -> Response:
    next_url = safe_next(request.query_params.get("next"))
    async with database(request).transaction() as session:
        admin = await current_admin(request, session)
    if admin is not None:
        return redirect(next_url)
    return render(request, LOGIN_TEMPLATE, {"values": {}, "errors": {}, "next": next_url})


async def login(request: Request) -> Response:
    form = form_values(await read_form(request))
    email = form.get("email", "").strip().lower()
    next_url = safe_next(form.get("next"))
    values = {"email": email}
    try:
        await SIGN_IN.check(request, email)
    except RateLimited as e:
        context = {"values": values, "errors": {"form": e.detail}, "next": next_url}
        response = render(request, LOGIN_TEMPLATE, context, 429)
        response.headers["Retry-After"] = str(e.retry_after_s)
        return response
    try:
        async with database(request).transaction() as session:
            admin = await authenticate_admin_password(session, email=email, password=form.get("password", ""))
    except DomainError as e:
        context = {"values": values, "errors": {"form": e.detail}, "next": next_url}
        return render(request, LOGIN_TEMPLATE, context, e.status_code)
    await start_admin_session(request, admin)
    response = redirect(next_url)
    SIGN_IN.remember(request, response, email)
    return response


async def logout(request: Request) -> Response:
    await read_form(request)
    await end_admin_session(request)
    flash(request, "You are signed out.")
    return redirect(LOGIN_URL)


routes: list[BaseRoute] = [
    Route("/admin/login", login_page, methods=["GET"]),
    Route("/admin/login", login, methods=["POST"]),
    Route("/admin/logout", logout, methods=["POST"]),
    *overview.routes,
    *queue_pages.routes,
    *audit_pages.routes,
    *export_pages.routes,
    *review_routes.routes,
    *mismatch_pages.routes,
]
