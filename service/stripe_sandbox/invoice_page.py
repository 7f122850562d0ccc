"""The hosted invoice page (an invoice's `hosted_invoice_url`): see what is due, pay it by card.

Where a donor lands from a failed-payment email: paying here with another card pays the open
invoice (the card becomes their default) and the subscription is active again.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from service.stripe_sandbox import invoices
from service.stripe_sandbox.actions import perform
from service.stripe_sandbox.api import sandbox_state
from service.stripe_sandbox.checkout_page import render
from service.stripe_sandbox.errors import StripeApiError
from service.stripe_sandbox.objects import Obj
from service.stripe_sandbox.payments import DEFAULT_CARD


def _page(request: Request, invoice: Obj, *, message: str | None = None, card_number: str = "") -> Response:
    state = sandbox_state(request)
    customer = state.find("customer", invoice["customer"])
    billed = invoice["lines"]["data"][0]["period"]
    context = {
        "period": f"{invoices.display_day(billed['start'])} \u2013 {invoices.display_day(billed['end'])}",
        "invoice": invoice,
        "customer": customer,
        "amount_due": invoices.display_amount(invoice["amount_due"], invoice["currency"]),
        "amount_remaining": invoices.display_amount(invoice["amount_remaining"], invoice["currency"]),
        "payable": invoice["status"] in invoices.PAYABLE,
        "paid": request.query_params.get("paid") == "1",
        "message": message,
        "card_number": card_number or DEFAULT_CARD,
        "action_url": str(request.url.remove_query_params("paid")),
    }
    return render(request, "sandbox/invoice.html", context)


def _invoice(request: Request) -> Obj | None:
    return sandbox_state(request).find("invoice", request.path_params["invoice_id"])


def _not_found(request: Request) -> Response:
    return render(request, "sandbox/not_found.html", {"what": "invoice"}, status_code=404)


async def show_invoice(request: Request) -> Response:
    invoice = _invoice(request)
    return _not_found(request) if invoice is None else _page(request, invoice)


async def pay_invoice(request: Request) -> Response:
    invoice = _invoice(request)
    if invoice is None:
        return _not_found(request)
    form = await request.form(max_files=0, max_fields=10)
    card_number = str(form.get("card_number") or DEFAULT_CARD)
    state = sandbox_state(request)
    invoice_id = invoice["id"]
    try:
        await perform(state, lambda: invoices.pay_with_card(state, invoice_id, card_number=card_number))
    except StripeApiError as e:
        return _page(request, invoice, message=e.message, card_number=card_number)
    if invoice["status"] != "paid":
        return _page(
            request, invoice, message="Your card was declined. Try another card.", card_number=card_number
        )
    return RedirectResponse(str(request.url.include_query_params(paid="1")), status_code=303)


routes = [
    Route("/invoices/{invoice_id}", show_invoice, methods=["GET"], name="hosted_invoice"),
    Route("/invoices/{invoice_id}", pay_invoice, methods=["POST"], name="hosted_invoice_pay"),
]
