"""What the dashboard's and the console's pages share about resets: the reader's language and
the rate limits, counted the same way on both (here, not in a page module: no page module
imports another package's, docs/architecture.md "Routes and URLs")."""

from __future__ import annotations

from starlette.requests import Request

from campaigns.notifications.password_resets import Area
from service.i18n import negotiate, normalise
from service.web.context import client_address, enforce_rate_limit


def request_language(request: Request) -> str:
    """`?lang=nl|en` when given, else the browser's Accept-Language: the person asking reads the email."""
    return normalise(request.query_params.get("lang")) or negotiate(request.headers.get("accept-language"))


async def count_reset_request(request: Request, area: Area, email: str) -> None:
    """One request against the network's and the address's allowance; raises RateLimited.

    Counted whether or not the address is an account's, so the limit itself tells nothing."""
    await enforce_rate_limit(request, area.per_network, client_address(request))
    await enforce_rate_limit(request, area.per_address, email.strip().lower())


NO_REFERRER = {"Referrer-Policy": "no-referrer"}
"""A reset page's address holds its token: it must not leave in a Referer header."""
