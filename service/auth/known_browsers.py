"""Browsers that signed in before, so an attacker guessing passwords cannot lock the owner out.

Per-account sign-in limits stop password guessing, but anyone who knows an email address can
use up its allowance and keep the owner out. A browser that once signed in to an account gets
a signed cookie naming that account (by a keyed hash of its email, never the address), and
its attempts for that account count against an allowance of its own. An attacker without
the cookie cannot forge it, and having it means having had the password.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.responses import Response

from service.ratelimit import Limit

KNOWN_BROWSER_LIFETIME = timedelta(days=90)
MAX_ACCOUNTS = 5
"""Accounts one cookie remembers (a shared office computer); the oldest drops out first."""


@dataclass(frozen=True)
class KnownBrowsers:
    """One area's cookie (dashboard or console) and the allowance it earns."""

    area: str
    cookie_name: str
    limit: Limit
    path: str = "/"

    def _serializer(self, secret_key: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(secret_key, salt=f"goodloop.known-browser.{self.area}")

    def _account(self, secret_key: str, email: str) -> str:
        key = f"known-browser:{self.area}:{email.strip().lower()}"
        return hmac.new(secret_key.encode(), key.encode(), hashlib.sha256).hexdigest()[:32]

    def _read(self, secret_key: str, cookie: str | None) -> dict[str, Any] | None:
        if not cookie:
            return None
        try:
            data = self._serializer(secret_key).loads(
                cookie, max_age=int(KNOWN_BROWSER_LIFETIME.total_seconds())
            )
        except BadSignature:
            return None
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("b"), str)
            or not isinstance(data.get("a"), list)
        ):
            return None
        return data

    def recognise(self, secret_key: str, cookie: str | None, email: str) -> str | None:
        """The browser's id when it signed in to this account before, else None."""
        data = self._read(secret_key, cookie)
        if data is None or self._account(secret_key, email) not in data["a"]:
            return None
        return str(data["b"])

    def remember(
        self, response: Response, secret_key: str, cookie: str | None, email: str, *, secure: bool
    ) -> None:
        """After a successful sign-in: add this account to the browser's cookie."""
        data = self._read(secret_key, cookie) or {"b": secrets.token_urlsafe(16), "a": []}
        account = self._account(secret_key, email)
        others = [a for a in data["a"] if a != account][-(MAX_ACCOUNTS - 1) :]
        accounts = [*others, account]
        value = self._serializer(secret_key).dumps({"b": data["b"], "a": accounts})
        response.set_cookie(
            self.cookie_name,
            value,
            max_age=int(KNOWN_BROWSER_LIFETIME.total_seconds()),
            path=self.path,
            httponly=True,
            secure=secure,
            samesite="lax",
        )

    def subject(self, email: str, browser_id: str) -> str:
        return f"{email.strip().lower()}:{browser_id}"
