"""How many pages one browser, one email and one network may start, how many sign-in links
they may ask for, and how many photos a page and a network may upload.

Honest supporters start one page, maybe two; a spammer or an impersonator starts many. So the
browser and the email are tight, and the network has a ceiling well above a school class
starting pages together on one Wi-Fi. Each attempt is counted in its own transaction before the
work (service.web.context.enforce_rate_limit), so it sticks even when the request fails.

A photo upload costs a CPU for a fraction of a second (decoding, six re-encoded variants) and
disk for every variant kept: a page changes its photo a few times, a script uploads thousands.
So each page has a small budget and each network a larger one (several fundraisers at one
school), counted before the image is decoded.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from starlette.requests import Request

from service.ratelimit import Limit
from service.web import tokens
from service.web.context import client_address, enforce_rate_limit, settings

CREATE_PER_BROWSER = Limit(
    name="fundraiser_create_browser",
    max_hits=5,
    window=timedelta(hours=1),
    message="too many fundraiser pages started from this browser; please try again in an hour",
)
CREATE_PER_EMAIL = Limit(
    name="fundraiser_create_email",
    max_hits=3,
    window=timedelta(hours=1),
    message="too many fundraiser pages started with this email address; please try again in an hour",
)
CREATE_PER_NETWORK = Limit(
    name="fundraiser_create_network",
    max_hits=60,
    window=timedelta(hours=1),
    message="too many fundraiser pages started from your network; please try again later",
)
SIGN_IN_PER_EMAIL = Limit(
    name="fundraiser_sign_in_email",
    max_hits=5,
    window=timedelta(hours=1),
    message="too many sign-in links asked for this email address; please try again later",
)
SIGN_IN_PER_NETWORK = Limit(
    name="fundraiser_sign_in_network",
    max_hits=30,
    window=timedelta(hours=1),
    message="too many sign-in links asked from your network; please try again later",
)


PHOTO_PER_PAGE = Limit(
    name="fundraiser_photo_page",
    max_hits=10,
    window=timedelta(hours=1),
    message="too many photos uploaded for this page; please try again in an hour",
)
PHOTO_PER_NETWORK = Limit(
    name="fundraiser_photo_network",
    max_hits=40,
    window=timedelta(hours=1),
    message="too many photos uploaded from your network; please try again later",
)


def browser_subject(request: Request) -> str:
    """A browser: its device cookie, else its network and user agent."""
    secret = settings(request).secret_key
    device = tokens.device_hash(secret, request.cookies.get(tokens.DEVICE_COOKIE))
    if device is not None:
        return f"device:{device}"
    agent = request.headers.get("user-agent", "")[:200]
    return f"network:{tokens.client_hash(secret, client_address(request))}:ua:{agent}"


async def enforce_creation_limits(request: Request, email: str) -> None:
    await enforce_rate_limit(request, CREATE_PER_BROWSER, browser_subject(request))
    await enforce_rate_limit(request, CREATE_PER_EMAIL, email.strip().lower())
    await enforce_rate_limit(request, CREATE_PER_NETWORK, client_address(request))


async def enforce_sign_in_limits(request: Request, email: str) -> None:
    await enforce_rate_limit(request, SIGN_IN_PER_EMAIL, email.strip().lower())
    await enforce_rate_limit(request, SIGN_IN_PER_NETWORK, client_address(request))


async def enforce_photo_limits(request: Request, fundraiser_id: uuid.UUID) -> None:
    await enforce_rate_limit(request, PHOTO_PER_PAGE, str(fundraiser_id))
    await enforce_rate_limit(request, PHOTO_PER_NETWORK, client_address(request))
