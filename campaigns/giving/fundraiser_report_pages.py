"""Reporting a supporter's fundraiser page (#15): /c/{slug}/f/{fundraiser_slug}/report.

Like the campaign's and a message's report forms: no session (a signed, timed form token stands
in for a CSRF token), rate limited per network like the campaign report, and only live pages
can be reported (anything else is a 404, as the page itself). The report joins the campaign's
moderation queue naming the page (campaigns.fundraising.service.report_page), where the
nonprofit and Goodloop's moderators can hide or end it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaigns.fundraising import service as fundraising
from campaigns.giving import service
from campaigns.moderation import service as moderation
from campaigns.moderation.models import ReportReason
from service.errors import RateLimited
from service.web import tokens
from service.web.context import client_address, database, enforce_rate_limit, settings
from service.web.language import gettext_for, page_language, remember, template_context
from service.web.messages import N_
from service.web.pages import templates

# Translated in the template (`_(label)`); the same words as the campaign's report form.
REASON_LABELS = {
    ReportReason.MISLEADING: N_("The story or the use of the money looks untrue"),
    ReportReason.IMPERSONATION: N_("It pretends to be someone it is not"),
    ReportReason.OFFENSIVE: N_("Hateful, violent or abusive content"),
    ReportReason.SPAM: N_("Spam, a scam or faked engagement"),
    ReportReason.OTHER: N_("Something else"),
}
_FIELD_MESSAGES = {
    "reason": N_("choose what is wrong"),
    "message": N_("keep it under 2,000 characters"),
    "email": N_("enter a valid email address, or leave it empty"),
}


class PageReportForm(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    reason: ReportReason
    message: str = Field(default="", max_length=2000)
    email: EmailStr | None = None


def _subject(slug: str, fundraiser_slug: str) -> str:
    return f"report-fundraiser:{slug}:{fundraiser_slug}"


async def _page(
    request: Request,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int,
    sent: bool,
    show_page: bool = True,
) -> Response:
    """The form; `show_page` names the reported page (a live one, else 404). A refused token
    answers 403 without looking the page up: a forged post learns nothing about it."""
    slug: str = request.path_params["slug"]
    fundraiser_slug: str = request.path_params["fundraiser_slug"]
    async with database(request).transaction() as session:
        view = await service.campaign_view(session, slug=slug, now=session.now())
        found = (
            await fundraising.public_fundraiser(session, campaign_slug=slug, fundraiser_slug=fundraiser_slug)
            if show_page
            else None
        )
    lang = page_language(request, default=view.campaign.default_language)
    context: dict[str, Any] = {
        **template_context(lang),
        "campaign": view.campaign,
        "fundraiser_slug": fundraiser_slug,
        "fundraiser": found.fundraiser if found is not None else None,
        "reasons": REASON_LABELS,
        "values": values,
        "errors": errors,
        "sent": sent,
        "form_token": tokens.form_token(settings(request).secret_key, _subject(slug, fundraiser_slug)),
    }
    response = templates.TemplateResponse(
        request, "giving/fundraiser_report.html", context, status_code=status_code
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Content-Language"] = lang
    remember(request, response)
    return response


async def report_page(request: Request) -> Response:
    return await _page(request, values={}, errors={}, status_code=200, sent=False)


async def submit_report(request: Request) -> Response:
    slug: str = request.path_params["slug"]
    fundraiser_slug: str = request.path_params["fundraiser_slug"]
    form = await request.form(max_files=0, max_fields=10, max_part_size=8 * 1024)
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    config = settings(request)
    async with database(request).transaction() as session:
        view = await service.campaign_view(session, slug=slug, now=session.now())
    _ = gettext_for(page_language(request, default=view.campaign.default_language))
    if not tokens.form_token_valid(
        config.secret_key, values.get("form_token"), _subject(slug, fundraiser_slug)
    ):
        errors = {"form": _("This form expired. Please send your report again.")}
        # 403 like every other form without its anti-forgery token (the reporter sees the message).
        return await _page(
            request, values=values, errors=errors, status_code=403, sent=False, show_page=False
        )
    try:
        data = PageReportForm.model_validate({**values, "email": values.get("email") or None})
    except ValidationError as e:
        errors = {
            str(err["loc"][0]): _(_FIELD_MESSAGES.get(str(err["loc"][0]), N_("this value is not valid")))
            for err in e.errors()
            if err["loc"]
        }
        return await _page(request, values=values, errors=errors, status_code=422, sent=False)
    try:
        await enforce_rate_limit(request, moderation.REPORT_LIMIT_PER_CLIENT, client_address(request))
        async with database(request).transaction() as session:
            await fundraising.report_page(
                session,
                campaign_slug=slug,
                fundraiser_slug=fundraiser_slug,
                reason=data.reason,
                message=data.message or "(no details given)",
                reporter_email=str(data.email) if data.email else None,
                client_hash=tokens.client_hash(config.secret_key, client_address(request)),
            )
    except RateLimited as e:
        errors = {"form": _("You sent several reports in the last hour. Thank you, we are looking at them.")}
        response = await _page(request, values=values, errors=errors, status_code=429, sent=False)
        response.headers["Retry-After"] = str(e.retry_after_s)
        return response
    return await _page(request, values={}, errors={}, status_code=200, sent=True)


routes = [
    Route(
        "/c/{slug:str}/f/{fundraiser_slug:str}/report",
        report_page,
        methods=["GET"],
        name="giving:fundraiser_report",
    ),
    Route(
        "/c/{slug:str}/f/{fundraiser_slug:str}/report",
        submit_report,
        methods=["POST"],
        name="giving:fundraiser_report_submit",
    ),
]
