"""The forgot-password and reset pages, once for both areas: members on the dashboard, admins
on the console. The area (whose accounts, which rate limits), the templates and where the reset
sends the person to sign in are the only differences, so each area's page module
(campaigns/dashboard/reset_pages.py, campaigns/console/reset_pages.py) builds its routes here.

The logic and its guarantees (no account enumeration, one hour, single use, every session
ended) are campaigns.notifications.password_resets'; these pages parse, count and render.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaigns.notifications import password_resets
from campaigns.notifications.password_resets import Area, ResetLinkInvalid
from campaigns.notifications.schemas import ForgotPasswordIn
from campaigns.notifications.web import NO_REFERRER, count_reset_request, request_language
from service.errors import RateLimited, ValidationFailed
from service.web.api import validate
from service.web.context import database
from service.web.language import gettext_for, page_language
from service.web.pages import flash, form_values, read_form, redirect, render
from service.web.urls import path_for


@dataclass(frozen=True)
class ResetPages:
    area: Area
    forgot_template: str
    """The area's own "forgot password" template (an area renders from its own folder)."""
    reset_template: str
    login_route: str
    """Where a person goes after setting a new password, e.g. `dashboard:login`."""
    language: str | None = None
    """The pages' one language (the console is English only), else the reader's (the dashboard)."""

    def _forgot(
        self,
        request: Request,
        *,
        values: Mapping[str, str],
        errors: Mapping[str, str],
        sent: bool = False,
        status: int = 200,
    ) -> Response:
        context = {"values": values, "errors": errors, "sent": sent}
        return render(request, self.forgot_template, context, status, language=self.language)

    async def forgot_page(self, request: Request) -> Response:
        return self._forgot(request, values={}, errors={})

    async def request_link(self, request: Request) -> Response:
        values = {"email": form_values(await read_form(request)).get("email", "").strip()}
        try:
            data = validate(ForgotPasswordIn, values)
            await count_reset_request(request, self.area, data.email)
        except ValidationFailed as e:
            return self._forgot(request, values=values, errors=e.fields, status=422)
        except RateLimited as e:
            response = self._forgot(request, values=values, errors={"form": e.detail}, status=429)
            response.headers["Retry-After"] = str(e.retry_after_s)
            return response
        async with database(request).transaction() as session:
            await password_resets.request_reset(
                session, area=self.area, email=data.email, language=request_language(request)
            )
        # The same page whether or not the address is an account's.
        return self._forgot(request, values=values, errors={}, sent=True)

    def _reset(self, request: Request, context: Mapping[str, object], status: int = 200) -> Response:
        context = {"errors": {}, "invalid": False, **context}
        response = render(request, self.reset_template, context, status, language=self.language)
        response.headers.update(NO_REFERRER)
        return response

    async def reset_page(self, request: Request) -> Response:
        token: str = request.path_params["token"]
        try:
            async with database(request).transaction() as session:
                await password_resets.open_reset(session, area=self.area, token=token)
        except ResetLinkInvalid as e:
            return self._reset(request, {"invalid": True, "errors": {"form": e.detail}}, e.status_code)
        return self._reset(request, {"token": token})

    async def set_password(self, request: Request) -> Response:
        token: str = request.path_params["token"]
        form = form_values(await read_form(request))
        try:
            async with database(request).transaction() as session:
                await password_resets.complete_reset(
                    session,
                    area=self.area,
                    token=token,
                    new_password=form.get("new_password", ""),
                    language=request_language(request),
                )
        except ResetLinkInvalid as e:
            return self._reset(request, {"invalid": True, "errors": {"form": e.detail}}, e.status_code)
        except ValidationFailed as e:
            return self._reset(request, {"token": token, "errors": e.fields}, 422)
        # Signed out everywhere, this browser too: it signs in with the new password.
        request.session.clear()
        _ = gettext_for(self.language or page_language(request))
        flash(
            request,
            _(
                "Your password is changed and every browser signed in as you is signed out. "
                "Sign in with your new password."
            ),
        )
        return redirect(path_for(request, self.login_route))

    def routes(self) -> list[Route]:
        return [
            Route("/forgot-password", self.forgot_page, methods=["GET"], name="forgot_password"),
            Route("/forgot-password", self.request_link, methods=["POST"], name="forgot_password_submit"),
            Route("/reset-password/{token}", self.reset_page, methods=["GET"], name="reset_password"),
            Route(
                "/reset-password/{token}", self.set_password, methods=["POST"], name="reset_password_submit"
            ),
        ]
