"""Public pages of the wall of support: every supporter (paged, no JavaScript needed) and the
form to report one donor's message.

Like the donate form and the campaign report, the report form keeps no session: a signed,
timed form token stands in for a CSRF token, and reports are rate limited per network.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaigns.campaign.errors import CampaignNotFound
from campaigns.giving import languages, repository, updates, wall
from campaigns.giving.availability import is_public
from campaigns.giving.repository import Supporter
from campaigns.moderation.models import ReportReason
from service.errors import NotFound, RateLimited
from service.pagination import InvalidCursor
from service.web import tokens
from service.web.context import client_address, database, enforce_rate_limit, settings
from service.web.language import gettext_for, template_context
from service.web.messages import N_
from service.web.pages import templates

# Translated in the template (`_(label)`).
REASON_LABELS = {
    ReportReason.OFFENSIVE: N_("Hateful, violent or abusive"),
    ReportReason.SPAM: N_("Spam, a scam or an advert"),
    ReportReason.IMPERSONATION: N_("It pretends to be someone it is not"),
    ReportReason.OTHER: N_("Something else"),
}
# Like the campaign page: the same for every visitor, briefly cacheable by shared caches.
PUBLIC_CACHE = "public, max-age=15, stale-while-revalidate=60"


class MessageReportForm(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    reason: ReportReason
    message: str = Field(default="", max_length=2000)
    email: EmailStr | None = None


_FIELD_MESSAGES = {
    "reason": N_("choose what is wrong"),
    "message": N_("keep it under 2,000 characters"),
    "email": N_("enter a valid email address, or leave it empty"),
}


def _field_message(field: str, language: str) -> str:
    return gettext_for(language)(_FIELD_MESSAGES.get(field, N_("this value is not valid")))


async def supporters_page(request: Request) -> Response:
    slug: str = request.path_params["slug"]
    async with database(request).transaction() as session:
        found = await repository.get_campaign_with_nonprofit(session, slug)
        if found is None or not is_public(found[0]):
            raise CampaignNotFound("no such campaign")
        try:
            page = await wall.wall_page(
                session,
                campaign_id=found[0].id,
                limit=wall.PAGE_SIZE,
                cursor=request.query_params.get("after") or None,
            )
        except InvalidCursor:
            page = await wall.wall_page(session, campaign_id=found[0].id, limit=wall.PAGE_SIZE, cursor=None)
        now = session.now()
    lang = languages.page_language(request, found[0].default_language)
    context = {**template_context(lang), "campaign": found[0], "page": page, "view": {"now": now}}
    response = templates.TemplateResponse(request, "giving/supporters.html", context)
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return languages.localise(request, response, lang)


async def updates_page(request: Request) -> Response:
    slug: str = request.path_params["slug"]
    cursor = request.query_params.get("after") or None
    async with database(request).transaction() as session:
        try:
            campaign, page = await updates.public_updates(
                session, slug=slug, limit=wall.PAGE_SIZE, cursor=cursor
            )
        except InvalidCursor:
            campaign, page = await updates.public_updates(
                session, slug=slug, limit=wall.PAGE_SIZE, cursor=None
            )
    lang = languages.page_language(request, campaign.default_language)
    response = templates.TemplateResponse(
        request, "giving/updates.html", {**template_context(lang), "campaign": campaign, "page": page}
    )
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return languages.localise(request, response, lang)


def _subject(slug: str, donation_id: uuid.UUID) -> str:
    return f"report-message:{slug}:{donation_id}"


def _report_page(
    request: Request,
    supporter: Supporter | None,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int,
    sent: bool,
) -> Response:
    slug: str = request.path_params["slug"]
    donation_id: uuid.UUID = request.path_params["donation_id"]
    lang = languages.page_language(request, None)
    context: dict[str, Any] = {
        **template_context(lang),
        "slug": slug,
        "donation_id": donation_id,
        "supporter": supporter,
        "reasons": REASON_LABELS,
        "values": values,
        "errors": errors,
        "sent": sent,
        "form_token": tokens.form_token(settings(request).secret_key, _subject(slug, donation_id)),
    }
    response = templates.TemplateResponse(
        request, "giving/report_message.html", context, status_code=status_code
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return languages.localise(request, response, lang)


async def report_message_page(request: Request) -> Response:
    async with database(request).transaction() as session:
        supporter, _ = await wall.reportable_supporter(
            session, slug=request.path_params["slug"], donation_id=request.path_params["donation_id"]
        )
    return _report_page(request, supporter, values={}, errors={}, status_code=200, sent=False)


async def submit_message_report(request: Request) -> Response:
    slug: str = request.path_params["slug"]
    donation_id: uuid.UUID = request.path_params["donation_id"]
    form = await request.form(max_files=0, max_fields=10, max_part_size=8 * 1024)
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    config = settings(request)
    lang = languages.page_language(request, None)
    _ = gettext_for(lang)
    if not tokens.form_token_valid(config.secret_key, values.get("form_token"), _subject(slug, donation_id)):
        errors = {"form": _("This form expired. Please send your report again.")}
        # 403 like every other form without its anti-forgery token (the reporter sees the message).
        return _report_page(request, None, values=values, errors=errors, status_code=403, sent=False)
    try:
        data = MessageReportForm.model_validate({**values, "email": values.get("email") or None})
    except ValidationError as e:
        errors = {
            str(err["loc"][0]): _field_message(str(err["loc"][0]), lang) for err in e.errors() if err["loc"]
        }
        return _report_page(request, None, values=values, errors=errors, status_code=422, sent=False)
    try:
        await enforce_rate_limit(request, wall.REPORT_MESSAGE_LIMIT_PER_CLIENT, client_address(request))
        async with database(request).transaction() as session:
            await wall.report_message(
                session,
                slug=slug,
                donation_id=donation_id,
                reason=data.reason,
                message=data.message or "(no details given)",
                reporter_email=str(data.email) if data.email else None,
                client_hash=tokens.client_hash(config.secret_key, client_address(request)),
            )
    except RateLimited as e:
        response = _report_page(
            request, None, values=values, errors={"form": e.detail}, status_code=429, sent=False
        )
        response.headers["Retry-After"] = str(e.retry_after_s)
        return response
    except NotFound:
        errors = {"form": _("This message is not on a public campaign any more.")}
        return _report_page(request, None, values=values, errors=errors, status_code=404, sent=False)
    return _report_page(request, None, values={}, errors={}, status_code=200, sent=True)


routes = [
    Route("/c/{slug:str}/supporters", supporters_page, methods=["GET"], name="giving:supporters"),
    Route("/c/{slug:str}/updates", updates_page, methods=["GET"], name="giving:updates"),
    Route(
        "/c/{slug:str}/supporters/{donation_id:uuid}/report",
        report_message_page,
        methods=["GET"],
        name="giving:report_message",
    ),
    Route(
        "/c/{slug:str}/supporters/{donation_id:uuid}/report",
        submit_message_report,
        methods=["POST"],
        name="giving:report_message_submit",
    ),
]
