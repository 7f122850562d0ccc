"""How many checkouts one browser, one email and one network may start.

Card testers start many Checkout Sessions with stolen numbers; honest donors start one or two.
But honest donors also share networks: a gala on one Wi-Fi, an office, a mobile carrier's
shared address. So the tight limits are per browser and per email, and the network only has a
ceiling far above any crowd of people giving at once. A browser is its `gl_device` cookie;
a client that sends none (a script, a browser refusing cookies) is its network and user agent,
under the same tight limit.

Cards are not limited here: Goodloop never sees a card before Stripe Checkout does, and
Checkout (with Radar) throttles card testing on its own page.
"""

from __future__ import annotations

from datetime import timedelta

from service.ratelimit import Limit

CHECKOUT_LIMIT_PER_BROWSER = Limit(
    name="checkout_browser",
    max_hits=10,
    window=timedelta(minutes=10),
    message="too many donation attempts from this browser; please wait a few minutes and try again",
)
CHECKOUT_LIMIT_PER_EMAIL = Limit(
    name="checkout_email",
    max_hits=5,
    window=timedelta(hours=1),
    message="too many donation attempts with this email address; please try again later",
)
CHECKOUT_LIMIT_PER_NETWORK = Limit(
    name="checkout_network",
    max_hits=200,
    window=timedelta(minutes=10),
    message="too many donation attempts from your network; please wait a few minutes and try again",
)


def browser_subject(*, device_hash: str | None, client_hash: str, user_agent: str) -> str:
    """The rate-limit subject of one browser: its device cookie, else network plus user agent."""
    if device_hash is not None:
        return f"device:{device_hash}"
    return f"network:{client_hash}:ua:{user_agent[:200]}"
