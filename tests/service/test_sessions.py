from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware import sessions as starlette_sessions
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from service.web.sessions import SessionMiddleware

SECRET = "session-test-secret-" + "s" * 30


def app_with(middleware: type) -> Starlette:
    async def untouched(request: Request) -> Response:
        return PlainTextResponse("hello")

    async def read(request: Request) -> Response:
        return JSONResponse(dict(request.session))

    async def write(request: Request) -> Response:
        request.session["csrf"] = "token"
        return PlainTextResponse("written")

    async def peek(request: Request) -> Response:
        request.session.get("csrf")
        return PlainTextResponse("peeked")

    async def clear(request: Request) -> Response:
        request.session.clear()
        return PlainTextResponse("cleared")

    options = {"secret_key": SECRET, "session_cookie": "goodloop_session", "max_age": 3600}
    options["https_only"] = True
    routes = [Route(f"/{f.__name__}", f) for f in (untouched, read, write, peek, clear)]
    return Starlette(routes=routes, middleware=[Middleware(middleware, **options)])


def client_for(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver")


def shape(response: httpx.Response) -> tuple[str | None, str | None]:
    """Vary and Set-Cookie, with the signed value (it carries a timestamp) left out."""
    cookie = response.headers.get("set-cookie")
    if cookie is not None:
        name, _, rest = cookie.partition("=")
        cookie = name + "=<value>;" + rest.split(";", 1)[1]
    return response.headers.get("vary"), cookie


class TestSessionMiddleware:
    @pytest.mark.parametrize("path", ["/untouched", "/read", "/write", "/peek", "/clear"])
    async def test_a_request_without_a_session_gets_what_starlette_would_send(self, path: str) -> None:
        async with client_for(app_with(starlette_sessions.SessionMiddleware)) as theirs:
            expected = await theirs.get(path)
        async with client_for(app_with(SessionMiddleware)) as ours:
            actual = await ours.get(path)

        assert (actual.status_code, actual.text) == (expected.status_code, expected.text)
        assert shape(actual) == shape(expected)

    async def test_a_session_started_here_is_read_back_by_starlette_and_by_us(self) -> None:
        async with client_for(app_with(SessionMiddleware)) as ours:
            await ours.get("/write")
            cookie = ours.cookies["goodloop_session"]
            again = await ours.get("/read")
        async with client_for(app_with(starlette_sessions.SessionMiddleware)) as theirs:
            theirs.cookies.set("goodloop_session", cookie)
            read = await theirs.get("/read")

        assert again.json() == read.json() == {"csrf": "token"}

    async def test_a_session_cookie_among_others_is_read_and_cleared(self) -> None:
        async with client_for(app_with(SessionMiddleware)) as ours:
            await ours.get("/write")
            ours.cookies.set("gl_device", "abc")
            read = await ours.get("/read")
            cleared = await ours.get("/clear")

        assert read.json() == {"csrf": "token"}
        assert "goodloop_session=null" in cleared.headers["set-cookie"]

    async def test_a_forged_session_cookie_is_no_session(self) -> None:
        async with client_for(app_with(SessionMiddleware)) as ours:
            ours.cookies.set("goodloop_session", "eyJjc3JmIjogImZvcmdlZCJ9.forged.signature")
            read = await ours.get("/read")

        assert read.json() == {}
