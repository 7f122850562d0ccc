"""Real HTTP servers (uvicorn in a thread) for tests that need a socket: browsers, fuzzers, Stripe."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import uvicorn
from starlette.types import ASGIApp

from service.app import create_app
from service.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serve_asgi(
    app: ASGIApp, *, port: int | None = None, lifespan: Literal["on", "off"] = "off"
) -> Iterator[str]:
    """Serve any ASGI app on a loopback port (a free one by default); yields the base URL."""
    port = port or free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan=lifespan
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"live-server-{port}", daemon=True)
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


@contextmanager
def serve(settings: Settings, *, port: int | None = None, run_worker: bool = False) -> Iterator[str]:
    """Serve the whole Goodloop app (with its lifespan) for these settings."""
    with serve_asgi(create_app(settings, run_worker=run_worker), port=port, lifespan="on") as base_url:
        yield base_url
