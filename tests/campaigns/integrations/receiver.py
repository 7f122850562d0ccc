"""A real webhook receiver for the tests: a tiny Starlette app on a loopback port (uvicorn).

It records every request (path, headers, raw body) and answers with what the test queued:
`receiver.answer(status=500)`, `receiver.answer(sleep_s=2)` (answers after that long: a
timeout for a sender with a shorter cap), `receiver.answer(status=302, location=...)`,
`receiver.answer(body_bytes=5_000_000)` (a large streamed answer). Without a queued answer it
says 200 "ok".
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from tests.live_server import serve_asgi


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b"ok"
    sleep_s: float = 0.0
    location: str | None = None
    body_bytes: int = 0
    """Stream this many bytes instead of `body` (in 64 KB chunks)."""
    path: str | None = None
    """Only for a request to this path (None: the next request, whatever its path)."""


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str = ""
    requests: list[Received] = field(default_factory=list)
    answers: deque[Answer] = field(default_factory=deque)
    streamed: list[int] = field(default_factory=list)
    """Bytes each streamed answer actually wrote before the client went away."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, **kw: object) -> None:
        self.answers.append(Answer(**kw))  # type: ignore[arg-type]

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        with self.lock:
            self.requests.append(Received(request.url.path, dict(request.headers), body))
            answer = next((a for a in self.answers if a.path in (None, request.url.path)), Answer())
            if answer in self.answers:
                self.answers.remove(answer)
        if answer.sleep_s:
            await asyncio.sleep(answer.sleep_s)
        if answer.location is not None:
            return Response(status_code=answer.status, headers={"Location": answer.location})
        if answer.body_bytes:
            return StreamingResponse(self._stream(answer.body_bytes), status_code=answer.status)
        return Response(answer.body, status_code=answer.status, media_type="text/plain")

    async def _stream(self, total: int) -> AsyncIterator[bytes]:
        index = len(self.streamed)
        self.streamed.append(0)
        chunk = b"x" * 65536
        while self.streamed[index] < total:
            yield chunk
            self.streamed[index] += len(chunk)
            await asyncio.sleep(0)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET", "POST"])])


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    with serve_asgi(receiver.app()) as base_url:
        receiver.url = base_url
        yield receiver
