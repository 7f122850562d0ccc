"""The public "report this campaign" page: anyone may tell moderators what looks wrong.

Like the donate form it keeps no session (a signed, timed form token instead of a session
CSRF token), and it is rate limited per network so a flood of reports cannot bury a
campaign or the moderators.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaigns.moderation import service as reports
from campaigns.moderation.models import ReportReason
from service.errors import NotFound, RateLimited
from service.web import tokens
from service.web.context import client_address, database, enforce_rate_limit, settings
from service.web.language import gettext_for, page_language, remember, template_context
from service.web.messages import N_
from service.web.pages import templates

# Translated in the template (`_(label)`).
REASON_LABELS = {
    ReportReason.MISLEADING: N_("The story or the use of the money looks untrue"),
    ReportReason.IMPERSONATION: N_("It pretends to be someone it is not"),
    ReportReason.OFFENSIVE: N_("Hateful, violent or abusive content"),
    ReportReason.SPAM: N_("Spam, a scam or faked engagement"),
    ReportReason.OTHER: N_("Something else"),
}


class ReportForm(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    reason: ReportReason
    message: str = Field(min_length=10, max_length=2000)
    email: EmailStr | None = None


def _token_subject(slug: str) -> str:
    return f"report:{slug}"


def _page(
    request: Request,
    slug: str,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int,
    sent: bool,
) -> Response:
    lang = page_language(request)
    context: dict[str, Any] = {
        **template_context(lang),
        "slug": slug,
        "reasons": REASON_LABELS,
        "values": values,
        "errors": errors,
        "sent": sent,
        "form_token": tokens.form_token(settings(request).secret_key, _token_subject(slug)),
    }
    response = templates.TemplateResponse(request, "moderation/report.html", context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = lang
    remember(request, response)
    return response


async def report_page(request: Request) -> Response:
    slug: str = request.path_params["slug"]
    return _page(request, slug, values={}, errors={}, status_code=200, sent=False)


async def submit_report(request: Request) -> Response:
    slug: str = request.path_params["slug"]
    form = await request.form(max_files=0, max_fields=10, max_part_size=8 * 1024)
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    config = settings(request)
    lang = page_language(request)
    _ = gettext_for(lang)
    if not tokens.form_token_valid(config.secret_key, values.get("form_token"), _token_subject(slug)):
        errors = {"form": _("This form expired. Please send your report again.")}
        # 403 like every other form without its anti-forgery token (the reporter sees the message).
        return _page(request, slug, values=values, errors=errors, status_code=403, sent=False)
    try:
        data = ReportForm.model_validate({**values, "email": values.get("email") or None})
    except ValidationError as e:
        errors = {
            str(err["loc"][0]): _(_field_message(str(err["loc"][0]))) for err in e.errors() if err["loc"]
        }
        return _page(request, slug, values=values, errors=errors, status_code=422, sent=False)
    try:
        await enforce_rate_limit(request, reports.REPORT_LIMIT_PER_CLIENT, client_address(request))
        async with database(request).transaction() as session:
            await reports.report_campaign(
                session,
                slug=slug,
                reason=data.reason,
                message=data.message,
                reporter_email=str(data.email) if data.email else None,
                client_hash=tokens.client_hash(config.secret_key, client_address(request)),
            )
    except RateLimited as e:
        response = _page(request, slug, values=values, errors={"form": e.detail}, status_code=429, sent=False)
        response.headers["Retry-After"] = str(e.retry_after_s)
        return response
    except NotFound:
        errors = {"form": _("There is no public campaign at this address.")}
        return _page(request, slug, values=values, errors=errors, status_code=404, sent=False)
    return _page(request, slug, values={}, errors={}, status_code=200, sent=True)


def _field_message(field: str) -> str:
    return {
        "reason": N_("choose what is wrong"),
        "message": N_("tell us in 10 to 2,000 characters what you saw"),
        "email": N_("enter a valid email address, or leave it empty"),
    }.get(field, N_("this value is not valid"))


routes = [
    Route("/c/{slug:str}/report", report_page, methods=["GET"], name="moderation:report"),
    Route("/c/{slug:str}/report", submit_report, methods=["POST"], name="moderation:report_submit"),
]
