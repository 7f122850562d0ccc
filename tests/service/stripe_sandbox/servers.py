"""Live servers for the sandbox tests: the sandbox itself and a webhook capture endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field

import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tests.live_server import serve_asgi

__all__ = ["Capture", "serve_asgi"]


@dataclass
class Capture:
    """What a webhook endpoint received, each delivery verified as Stripe's library verifies it."""

    platform_secret: str
    connect_secret: str
    platform: list[stripe.Event] = field(default_factory=list)
    connect: list[stripe.Event] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    fail_next: int = 0
    """Answer this many deliveries with a 503 first (to exercise retries)."""

    def types(self, *, connect: bool = False) -> list[str]:
        return [e.type for e in (self.connect if connect else self.platform)]

    def app(self) -> Starlette:
        async def receive(request: Request, *, secret: str, sink: list[stripe.Event]) -> Response:
            payload = (await request.body()).decode()
            header = request.headers.get("stripe-signature", "")
            try:
                event = stripe.Webhook.construct_event(payload, header, secret)
            except (stripe.SignatureVerificationError, ValueError) as e:
                self.rejected.append(str(e))
                return PlainTextResponse("bad signature", status_code=400)
            if self.fail_next > 0:
                self.fail_next -= 1
                return PlainTextResponse("try later", status_code=503)
            sink.append(event)
            return PlainTextResponse("ok")

        async def platform(request: Request) -> Response:
            return await receive(request, secret=self.platform_secret, sink=self.platform)

        async def connect(request: Request) -> Response:
            return await receive(request, secret=self.connect_secret, sink=self.connect)

        return Starlette(
            routes=[
                Route("/webhooks/stripe", platform, methods=["POST"]),
                Route("/webhooks/stripe/connect", connect, methods=["POST"]),
            ]
        )
