"""Sign-in limits shared by the dashboard and the console: per network, per account, and a
known browser's own allowance (service.auth.known_browsers) so guessing never locks out the owner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response

from service.auth.known_browsers import KnownBrowsers
from service.ratelimit import Limit
from service.web.context import client_address, enforce_rate_limit, settings

SIGN_IN_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class SignInGuard:
    per_network: Limit
    per_account: Limit
    known_browsers: KnownBrowsers

    async def check(self, request: Request, email: str) -> None:
        """Count one attempt; raises RateLimited. A known browser counts against its own allowance."""
        known = self.known_browsers.recognise(
            settings(request).secret_key, request.cookies.get(self.known_browsers.cookie_name), email
        )
        if known is not None:
            await enforce_rate_limit(
                request, self.known_browsers.limit, self.known_browsers.subject(email, known)
            )
            return
        await enforce_rate_limit(request, self.per_network, client_address(request))
        await enforce_rate_limit(request, self.per_account, email)

    def remember(self, request: Request, response: Response, email: str) -> None:
        """After a successful sign-in: this browser now knows the account."""
        self.known_browsers.remember(
            response,
            settings(request).secret_key,
            request.cookies.get(self.known_browsers.cookie_name),
            email,
            secure=settings(request).is_production,
        )


def sign_in_guard(*, area: str, limit_prefix: str, cookie_name: str, path: str) -> SignInGuard:
    """One area's limits; the limit names (`{prefix}login_client` ...) key the stored counters."""
    return SignInGuard(
        per_network=Limit(
            name=f"{limit_prefix}login_client",
            max_hits=20,
            window=SIGN_IN_WINDOW,
            message="too many sign-in attempts from this network; wait a few minutes and try again",
        ),
        per_account=Limit(
            name=f"{limit_prefix}login_email",
            max_hits=8,
            window=SIGN_IN_WINDOW,
            message="too many sign-in attempts for this account; wait a few minutes and try again",
        ),
        known_browsers=KnownBrowsers(
            area=area,
            cookie_name=cookie_name,
            path=path,
            limit=Limit(
                name=f"{limit_prefix}login_known_browser",
                max_hits=10,
                window=SIGN_IN_WINDOW,
                message="too many sign-in attempts from this browser; wait a few minutes and try again",
            ),
        ),
    )
