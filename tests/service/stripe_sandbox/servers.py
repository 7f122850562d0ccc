"""Live servers for the sandbox tests: the sandbox itself and a webhook capture endpoint."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import stripe
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from tests.live_server import free_port


@contextmanager
def serve_asgi(app: ASGIApp) -> Iterator[str]:
    """Serve any ASGI app with uvicorn on a free loopback port; yields the base URL."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"sandbox-test-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


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
