"""Webhook intake: verify Stripe's signature on the raw body, store the event once, answer 2xx.

No business logic and no Stripe calls here: the route only decides whether the delivery is a
genuine event we handle and makes it durable. The processor does the rest, so a slow handler
can never make Stripe time out and redeliver. Storing goes through the process's group-commit
writer (webhooks/intake_writer.py): deliveries arriving together share one INSERT and one
commit, and each is answered 2xx only after that commit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pydantic
import pydantic_core
import stripe
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.errors import DomainError
from service.logging import get_logger
from service.settings import Settings
from service.web import errors
from service.web.context import database, settings
from service.web.fast_path import FastRoute, Responder
from service.web.middleware import MAX_BODY_BYTES
from webhooks import inbox
from webhooks.errors import WebhookRejected
from webhooks.events import HANDLED_TYPES, Envelope
from webhooks.intake_writer import InboxWriter
from webhooks.metrics import WEBHOOKS_RECEIVED

log = get_logger("goodloop.webhooks")

SIGNATURE_TOLERANCE_S = 300

# The only two answers to a good delivery, rendered once (Stripe ignores the body anyway).
_STORED = b'{"received": true, "stored": true}'
_IGNORED = b'{"received": true, "stored": false}'


def writer(request: Request) -> InboxWriter:
    """The process's group-commit writer (service/app.py makes one per app)."""
    found: InboxWriter = request.app.state.inbox_writer
    return found


def is_live(config: Settings) -> bool:
    key = config.stripe_secret_key or ""
    return key.startswith(("sk_live_", "rk_live_"))


def verify(payload: bytes, signature: str | None, secret: str) -> tuple[Envelope, str]:
    """The verified envelope and the payload's JSON text, or WebhookRejected.

    Nothing is trusted before this. The text is returned as received (it is stored as is).
    """
    if not signature:
        raise WebhookRejected("missing Stripe-Signature header", code="missing_signature")
    try:
        text = payload.decode("utf-8")
        # The SDK's own check (construct_event runs exactly this first): HMAC-SHA256 over
        # "t.payload" against every v1 signature, constant-time, with the timestamp tolerance.
        # construct_event would then build a StripeObject tree we never use, which costs ~100x
        # the check itself (milliseconds for a charge) and capped intake at a few hundred/s.
        stripe.WebhookSignature.verify_header(text, signature, secret, tolerance=SIGNATURE_TOLERANCE_S)
    except stripe.SignatureVerificationError as e:
        raise WebhookRejected("the signature does not match or is too old", code="bad_signature") from e
    except (ValueError, TypeError, AttributeError, KeyError) as e:
        raise WebhookRejected("the payload is not a Stripe event", code="invalid_payload") from e
    try:
        # Strict JSON (NaN and Infinity are refused: no database takes them as JSON), parsed by
        # pydantic's parser, twice as fast as the json module's on an event.
        return Envelope.model_validate(pydantic_core.from_json(text, allow_inf_nan=False)), text
    except (ValueError, RecursionError, pydantic.ValidationError) as e:
        # Signed but not an event (or nested too deep to parse): refuse it, never a 500.
        raise WebhookRejected("the payload is not a Stripe event", code="invalid_payload") from e


async def receive(request: Request, *, secret: str, endpoint: str) -> Response:
    config = settings(request)
    try:
        envelope, payload = verify(await request.body(), request.headers.get("stripe-signature"), secret)
    except WebhookRejected as e:
        # Someone else's mistake (or a probe), not ours: a line at info, no traceback.
        log.info("webhook refused", endpoint=endpoint, code=e.code)
        raise
    if envelope.livemode != is_live(config):
        raise WebhookRejected("the event's livemode does not match this deployment", code="wrong_livemode")
    if envelope.type not in HANDLED_TYPES:
        WEBHOOKS_RECEIVED.labels(endpoint, "ignored").inc()
        return Response(_IGNORED, media_type="application/json")
    db = database(request)
    try:
        row = inbox.InboxRow.of(envelope, payload_json=payload, received_at=db.clock.now())
    except ValueError as e:
        raise WebhookRejected("the payload is not a Stripe event", code="invalid_payload") from e
    # Durable before the answer: the writer resolves this only after its batch committed.
    first = await writer(request).store(db, row)
    WEBHOOKS_RECEIVED.labels(endpoint, "stored" if first else "duplicate").inc()
    return Response(_STORED, media_type="application/json")


async def platform_webhook(request: Request) -> Response:
    return await receive(request, secret=settings(request).webhook_secret, endpoint="platform")


async def connect_webhook(request: Request) -> Response:
    return await receive(request, secret=settings(request).connect_webhook_secret, endpoint="connect")


routes = [
    Route("/webhooks/stripe", platform_webhook, methods=["POST"], name="webhooks:stripe"),
    Route("/webhooks/stripe/connect", connect_webhook, methods=["POST"], name="webhooks:stripe_connect"),
]


def _fast(handler: Callable[[Request], Awaitable[Response]]) -> Responder:
    """The intake on the page fast path (service/web/fast_path.py): Stripe's deliveries skip
    the session and exception middleware and the router's pattern list, and render their own
    refusals exactly as the exception handler does."""

    async def respond(request: Request) -> Response | None:
        # What the app's body limit lets through; a larger delivery, or one without a
        # Content-Length, takes the normal path and meets that limit there.
        length = request.headers.get("content-length", "")
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            return None
        try:
            return await handler(request)
        except DomainError as e:
            return await errors.domain_error(request, e)

    return respond


FAST_ROUTES = tuple(
    FastRoute(route=route, respond=_fast(handler), method="POST")
    for route, handler in zip(routes, (platform_webhook, connect_webhook), strict=True)
)
