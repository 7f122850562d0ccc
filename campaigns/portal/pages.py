"""The donor portal's pages: `/donor` (sign in by email, then the donor's gifts), the emailed
link's page, receipts and statements, and the recurring gifts' controls.

Every page reads the donor's identity from the donor session (campaigns.portal.signin), never
from the request: ids in URLs are only looked up among the donor's own gifts, and anything
else is a 404.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaigns.donations.models import DonationStatus
from campaigns.portal import documents, recurring, repository, signin, web
from campaigns.portal.mail import queue_sign_in_email
from campaigns.portal.models import ChangeKind
from service import i18n
from service.errors import DomainError, RateLimited, ValidationFailed
from service.money import currency
from service.ratelimit import Limit
from service.web.context import client_address, database, enforce_rate_limit, stripe_client
from service.web.forms import AmountError, to_major_text, to_minor
from service.web.pages import flash, form_values, read_form, redirect, render
from service.web.urls import path_for, public_url_for
from service.web.validation_messages import sentence

LINKS_PER_EMAIL = Limit(
    name="portal_link_email",
    max_hits=5,
    window=signin.LINK_LIFETIME * 4,
    message="too many sign-in links were asked for this address; wait a while and try again",
)
LINKS_PER_NETWORK = Limit(
    name="portal_link_client",
    max_hits=30,
    window=signin.LINK_LIFETIME * 4,
    message="too many sign-in links were asked from this network; wait a while and try again",
)


def page(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> Response:
    """Render in the donor's language (service.web.pages.render: `_`, `money`, `date`, the
    `gl_lang` cookie and Content-Language); `major` writes an amount for the amount field."""
    lang = web.language(request)

    def major(amount_minor: int | None, currency_code: str) -> str:
        return to_major_text(amount_minor, currency_code, lang)

    return render(request, template, {"major": major, **(context or {})}, status_code, language=lang)


def _unconfirmed(request: Request) -> str:
    """Stripe did not answer: the change may have been made, so never "nothing changed"."""
    return _translate(
        request,
        "Stripe did not answer in time, so we could not confirm your change yet. It shows here "
        "once Stripe confirms it; if it does not within a few minutes, please try again.",
    )


def _translate(request: Request, message: str) -> str:
    return i18n.translations(web.language(request)).gettext(message)


async def signed_in_email(request: Request) -> str | None:
    async with database(request).unit_of_work() as session:
        return await signin.session_email(session, token=web.session_token(request), now=session.now())


async def home(request: Request) -> Response:
    email = await signed_in_email(request)
    if email is None:
        return page(request, "portal/sign_in.html", {"values": {}, "errors": {}})
    return await _gifts_page(request, email)


async def _gifts_page(
    request: Request,
    email: str,
    *,
    amount_errors: dict[uuid.UUID, str] | None = None,
    amount_typed: dict[uuid.UUID, str] | None = None,
    status_code: int = 200,
) -> Response:
    async with database(request).unit_of_work() as session:
        gifts = await repository.gifts_for_email(session, email=email)
        recurring_gifts = await recurring.recurring_for_email(session, email=email)
        names = {gift.nonprofit_id: gift.nonprofit_name for gift in gifts}
        found = await documents.documents_for_email(session, email=email, names=names)
    context = {
        "email": email,
        "gifts": gifts,
        "recurring": recurring_gifts,
        "amount_errors": amount_errors or {},
        "amount_typed": amount_typed or {},
        **_gift_texts(request),
        "receipts": found.receipts,
        "statements": found.statements,
    }
    return page(request, "portal/gifts.html", context, status_code)


def _gift_texts(request: Request) -> dict[str, Any]:
    gettext = i18n.translations(web.language(request)).gettext
    return {
        "status_text": {
            DonationStatus.PROCESSING: gettext("Processing"),
            DonationStatus.CONFIRMED: gettext("Received"),
            DonationStatus.PARTIALLY_REFUNDED: gettext("Partly refunded"),
            DonationStatus.REFUNDED: gettext("Refunded"),
            DonationStatus.DISPUTED: gettext("Disputed"),
        },
    }


async def ask_for_link(request: Request) -> Response:
    values = form_values(await read_form(request))
    email = signin.normalise_email(values.get("email", ""))
    if email is None:
        errors = {"email": _translate(request, "Enter your email address, such as name@example.org.")}
        return page(request, "portal/sign_in.html", {"values": values, "errors": errors}, 422)
    try:
        await enforce_rate_limit(request, LINKS_PER_NETWORK, client_address(request))
        await enforce_rate_limit(request, LINKS_PER_EMAIL, email)
    except RateLimited as e:
        errors = {
            "email": _translate(request, "Too many sign-in links were asked for; wait a while and try again.")
        }
        response = page(request, "portal/sign_in.html", {"values": values, "errors": errors}, 429)
        response.headers["Retry-After"] = str(e.retry_after_s)
        return response
    lang = web.language(request)
    # The same work for every address, known or not (campaigns.portal.signin): a link, an email.
    async with database(request).transaction() as session:
        issued = await signin.issue_link(session, email=email, language=lang)
        url = public_url_for(request, "portal:link", token=issued.token)
        await queue_sign_in_email(session, link=issued.link, url=url)
    return redirect(path_for(request, "portal:sent") + f"?lang={lang}")


async def sent(request: Request) -> Response:
    return page(request, "portal/sent.html")


async def link_page(request: Request) -> Response:
    """What following the emailed link shows: a button. Mail scanners that fetch the link
    spend nothing; the POST below does."""
    token = str(request.path_params["token"])
    async with database(request).unit_of_work() as session:
        usable = await signin.link_is_usable(session, token=token, now=session.now())
    response = page(request, "portal/link.html", {"token": token, "usable": usable}, 200 if usable else 410)
    # The token is in this page's address: never hand it to another site as a Referer.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


async def use_link(request: Request) -> Response:
    await read_form(request)
    token = str(request.path_params["token"])
    async with database(request).transaction() as session:
        email = await signin.spend_link(session, token=token)
        session_token = await signin.open_session(session, email=email) if email is not None else None
    if session_token is None:
        response = page(request, "portal/link.html", {"token": token, "usable": False}, 410)
        response.headers["Referrer-Policy"] = "no-referrer"
        return response
    response = redirect(path_for(request, "portal:home"))
    web.set_session_cookie(request, response, session_token)
    return response


async def sign_out(request: Request) -> Response:
    await read_form(request)
    async with database(request).transaction() as session:
        await signin.end_session(session, token=web.session_token(request))
    response = redirect(path_for(request, "portal:home"))
    web.clear_session_cookie(request, response)
    return response


async def _donor_or_home(request: Request) -> str | Response:
    email = await signed_in_email(request)
    return email if email is not None else redirect(path_for(request, "portal:home"))


def _gift_id(request: Request) -> uuid.UUID:
    value = request.path_params["gift_id"]
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


async def change_amount(request: Request) -> Response:
    values = form_values(await read_form(request))
    email = await _donor_or_home(request)
    if isinstance(email, Response):
        return email
    gift_id = _gift_id(request)
    async with database(request).unit_of_work() as session:
        gift, _ = await recurring.owned_gift(session, email=email, gift_id=gift_id)
    try:
        amount_minor = to_minor(values.get("amount", ""), currency(gift.currency), web.language(request))
        await recurring.change_gift(
            database(request),
            stripe_client(request),
            email=email,
            gift_id=gift_id,
            kind=ChangeKind.AMOUNT,
            amount_minor=amount_minor,
        )
    except (AmountError, ValidationFailed) as e:
        # Next to the field, with what the donor typed kept.
        return await _gifts_page(
            request,
            email,
            amount_errors={gift_id: sentence(_refusal(e), web.language(request))},
            amount_typed={gift_id: values.get("amount", "")[:40]},
            status_code=422,
        )
    except recurring.StripeUnconfirmed:
        flash(request, _unconfirmed(request))
        return _back_home(request, gift_id)
    except (recurring.GiftStopped, recurring.StripeRefused) as e:
        reason = sentence(_refusal(e), web.language(request))
        flash(request, _translate(request, "The amount was not changed:") + " " + reason)
        return _back_home(request, gift_id)
    flash(
        request,
        _translate(
            request, "Your new amount is on its way to Stripe; it shows here once Stripe confirms it."
        ),
    )
    return _back_home(request, gift_id)


async def cancel_page(request: Request) -> Response:
    email = await _donor_or_home(request)
    if isinstance(email, Response):
        return email
    async with database(request).unit_of_work() as session:
        rows = await recurring.recurring_for_email(session, email=email)
    row = next((r for r in rows if r.gift.id == _gift_id(request)), None)
    if row is None:
        raise recurring.GiftNotFound("no such recurring gift")
    return page(request, "portal/cancel.html", {"email": email, "row": row, **_gift_texts(request)})


async def cancel(request: Request) -> Response:
    await read_form(request)
    email = await _donor_or_home(request)
    if isinstance(email, Response):
        return email
    gift_id = _gift_id(request)
    try:
        await recurring.change_gift(
            database(request), stripe_client(request), email=email, gift_id=gift_id, kind=ChangeKind.CANCEL
        )
    except recurring.StripeUnconfirmed:
        flash(request, _unconfirmed(request))
        return _back_home(request, gift_id)
    except (recurring.GiftStopped, recurring.StripeRefused) as e:
        reason = sentence(e.detail, web.language(request))
        flash(request, _translate(request, "The gift was not canceled:") + " " + reason)
        return _back_home(request, gift_id)
    flash(
        request,
        _translate(request, "Your cancellation is on its way to Stripe; no further payments will be taken."),
    )
    return _back_home(request, gift_id)


async def update_card(request: Request) -> Response:
    await read_form(request)
    email = await _donor_or_home(request)
    if isinstance(email, Response):
        return email
    gift_id = _gift_id(request)
    async with database(request).unit_of_work() as session:
        slot = int(session.now().timestamp()) // 300
    language = web.language(request)
    # The language too: the portal session's locale differs, and Stripe refuses a reused key
    # whose parameters changed (a donor switching ?lang within the five minutes).
    scope = (
        f"{hashlib.sha256((web.session_token(request) or '').encode()).hexdigest()[:16]}:{slot}:{language}"
    )
    try:
        url = await recurring.billing_portal_url(
            database(request),
            stripe_client(request),
            email=email,
            gift_id=gift_id,
            return_url=public_url_for(request, "portal:home"),
            language=language,
            key_scope=scope,
        )
    except (recurring.GiftStopped, recurring.StripeRefused) as e:
        flash(request, sentence(e.detail, web.language(request)))
        return _back_home(request, gift_id)
    return redirect(url)


async def receipt(request: Request) -> Response:
    email = await _donor_or_home(request)
    if isinstance(email, Response):
        return email
    receipt_id = request.path_params["receipt_id"]
    async with database(request).unit_of_work() as session:
        pdf, filename = await documents.receipt_for_donor(session, email=email, receipt_id=receipt_id)
    return _pdf(pdf, filename)


async def statement(request: Request) -> Response:
    email = await _donor_or_home(request)
    if isinstance(email, Response):
        return email
    async with database(request).unit_of_work() as session:
        pdf, filename = await documents.statement_for_donor(
            session,
            email=email,
            nonprofit_id=request.path_params["nonprofit_id"],
            year=int(request.path_params["year"]),
            language=web.language(request),
        )
    return _pdf(pdf, filename)


def _pdf(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


def _refusal(error: Exception) -> str:
    if isinstance(error, ValidationFailed):
        return error.fields.get("amount", error.detail)
    return error.detail if isinstance(error, DomainError) else str(error)


def _back_home(request: Request, gift_id: uuid.UUID) -> Response:
    return redirect(path_for(request, "portal:home") + f"?lang={web.language(request)}#gift-{gift_id}")


routes = [
    Route("/donor", home, methods=["GET"], name="portal:home"),
    Route("/donor", ask_for_link, methods=["POST"], name="portal:home_submit"),
    Route("/donor/sent", sent, methods=["GET"], name="portal:sent"),
    Route("/donor/sign-in/{token}", link_page, methods=["GET"], name="portal:link"),
    Route("/donor/sign-in/{token}", use_link, methods=["POST"], name="portal:link_submit"),
    Route("/donor/sign-out", sign_out, methods=["POST"], name="portal:sign_out"),
    Route("/donor/receipts/{receipt_id:uuid}", receipt, methods=["GET"], name="portal:receipt"),
    Route(
        "/donor/statements/{nonprofit_id:uuid}/{year:int}",
        statement,
        methods=["GET"],
        name="portal:statement",
    ),
    Route("/donor/recurring/{gift_id:uuid}/amount", change_amount, methods=["POST"], name="portal:amount"),
    Route("/donor/recurring/{gift_id:uuid}/cancel", cancel_page, methods=["GET"], name="portal:cancel"),
    Route("/donor/recurring/{gift_id:uuid}/cancel", cancel, methods=["POST"], name="portal:cancel_submit"),
    Route("/donor/recurring/{gift_id:uuid}/card", update_card, methods=["POST"], name="portal:card"),
]
