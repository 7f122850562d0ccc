"""Dashboard: the organisation's tax profile, as its receipts name it (owners edit, others read),
and a sample receipt drawn with it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaigns.dashboard.auth import has_role, require_actor, signed_in
from campaigns.dashboard.language import translator
from campaigns.nonprofits.actors import Actor
from campaigns.nonprofits.models import MemberRole
from campaigns.receipts import service as receipts
from campaigns.receipts.pdf import ReceiptDocument, receipt_pdf
from campaigns.receipts.schemas import TaxProfileIn, TaxProfileOut
from campaigns.receipts.tax import TIME_ZONE_BY_COUNTRY, Issuer, tax_text
from service.errors import ValidationFailed
from service.unit_of_work import UnitOfWork
from service.web.api import validate
from service.web.context import database
from service.web.language import page_language
from service.web.pages import flash, form_values, read_form, redirect, render
from service.web.urls import path_for

TEMPLATE = "dashboard/tax_profile.html"
FIELDS = ("legal_name", "country", "registration_number", "tax_id", "time_zone")
SAMPLE_GIFT_MINOR = 2500


@signed_in
async def tax_profile(request: Request) -> Response:
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        return await _page(request, session, actor)


@signed_in
async def save_tax_profile(request: Request) -> Response:
    values = form_values(await read_form(request))
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        actor.require(MemberRole.OWNER)
        fields = {name: values.get(name, "").strip() for name in FIELDS}
        try:
            async with session.begin_nested():
                data = validate(TaxProfileIn, {**fields, "tax_id": fields["tax_id"] or None})
                await receipts.save_tax_profile(session, actor=actor, data=data)
        except ValidationFailed as e:
            return await _page(request, session, actor, values=values, errors=e.fields, status_code=422)
    _ = translator(request)
    flash(request, _("Your tax profile is saved. Receipts from now on carry it."))
    return redirect(path_for(request, "dashboard:tax_profile"))


@signed_in
async def sample_receipt(request: Request) -> Response:
    """A receipt as donors would get it today, drawn with the saved profile (never numbered)."""
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        profile = await receipts.tax_profile_view(session, actor=actor)
        now = session.now()
    issuer = _issuer(profile)
    language = "nl" if profile.country == "NL" else "en"
    document = ReceiptDocument(
        number=f"{now.year}-000000",
        corrected=False,
        issuer=issuer,
        donor_name="Sam Example",
        donor_email="sam@example.org",
        gift_date=(now - timedelta(days=1)).date(),
        issued_at=now,
        amount_minor=SAMPLE_GIFT_MINOR,
        currency="usd" if profile.country == "US" else "gbp" if profile.country == "GB" else "eur",
        payment_method="card",
        language=language,
    )
    headers = {
        "Content-Disposition": 'inline; filename="sample-receipt.pdf"',
        "Cache-Control": "no-store",
    }
    # Drawing takes a tenth of a second of CPU: off the event loop, like the receipt mail job.
    pdf = await anyio.to_thread.run_sync(receipt_pdf, document)
    return Response(pdf, media_type="application/pdf", headers=headers)


def _issuer(profile: TaxProfileOut) -> Issuer:
    return Issuer(
        legal_name=profile.legal_name,
        country=profile.country,
        registration_number=profile.registration_number,
        tax_id=profile.tax_id,
        time_zone=profile.time_zone,
    )


def _values(profile: TaxProfileOut) -> dict[str, str]:
    return {
        "legal_name": profile.legal_name,
        "country": profile.country,
        "registration_number": profile.registration_number,
        "tax_id": profile.tax_id or "",
        "time_zone": profile.time_zone,
    }


async def _page(
    request: Request,
    session: UnitOfWork,
    actor: Actor,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    profile = await receipts.tax_profile_view(session, actor=actor)
    context: dict[str, Any] = {
        "actor": actor,
        "profile": profile,
        # What a donor reading this page's language finds on their receipt.
        "tax_text": tax_text(_issuer(profile), page_language(request)),
        "is_owner": has_role(actor, MemberRole.OWNER),
        "values": values or _values(profile),
        "errors": errors or {},
        "zones": sorted({*TIME_ZONE_BY_COUNTRY.values(), "UTC"}),
    }
    return render(request, TEMPLATE, context, status_code)


routes = [
    Route("/tax-profile", tax_profile, methods=["GET"], name="tax_profile"),
    Route("/tax-profile", save_tax_profile, methods=["POST"], name="tax_profile_submit"),
    Route("/tax-profile/sample.pdf", sample_receipt, methods=["GET"], name="tax_profile_sample"),
]
