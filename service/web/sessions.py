"""Signed-cookie sessions (Starlette's), minus their cost on requests that bring no session.

Most traffic is anonymous page views: there is no session cookie to parse and verify, and
unless the handler uses the session there is nothing to add to the response. Starlette's
middleware still builds a connection, parses the cookies and rewrites the response headers
for each of them; this one checks the Cookie header for the session's name and otherwise
only watches whether the handler touched the session.
"""

from __future__ import annotations

import json
from base64 import b64encode
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.middleware import sessions
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class SessionMiddleware(sessions.SessionMiddleware):
    def __init__(self, app: ASGIApp, *args: Any, **kwargs: Any) -> None:
        super().__init__(app, *args, **kwargs)
        self._marker = f"{self.session_cookie}=".encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._brings_session(scope):
            await super().__call__(scope, receive, send)
            return
        session = scope["session"] = sessions.Session()

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start" and session.accessed:
                self._start(message, session)
            await send(message)

        await self.app(scope, receive, send_wrapper)

    def _brings_session(self, scope: Scope) -> bool:
        # A false positive (another cookie whose name ends in ours) only takes the full path.
        marker = self._marker
        return any(name == b"cookie" and marker in value for name, value in scope["headers"])

    def _start(self, message: Message, session: sessions.Session) -> None:
        """What Starlette's middleware adds when the request came without a session."""
        message.setdefault("headers", [])
        headers = MutableHeaders(scope=message)
        headers.add_vary_header("Cookie")
        if session.modified and session:
            data = self.signer.sign(b64encode(json.dumps(session).encode("utf-8"))).decode("utf-8")
            max_age = f"Max-Age={self.max_age}; " if self.max_age is not None else ""
            cookie = f"{self.session_cookie}={data}; path={self.path}; {max_age}{self.security_flags}"
            headers.append("Set-Cookie", cookie)
