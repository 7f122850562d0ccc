"""The baseline: a hello-world Starlette endpoint served exactly like Goodloop (uvicorn, one process)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route


async def hello(request: Request) -> Response:
    return PlainTextResponse("hello, world")


app = Starlette(routes=[Route("/", hello)])
