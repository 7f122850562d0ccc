"""The embed's rules: which sites may show the donate form, and where a donor goes back to.

embed.js asks `embed_origins` before it builds a frame, so a site the campaign does not list
shows a clear message instead of the browser's broken frame (the frame's own
`frame-ancestors` stays the real guard).

It also passes the host page's address to the frame (`return_to`); the donate form carries
it to checkout, which puts it in Stripe's success URL, and the thank-you page offers
"Back to <host>". The address is kept only when its origin is exactly one of the campaign's
allowed embed origins, checked at checkout and again when the thank-you page renders,
because the success URL passes through the donor's browser and anyone can edit it. It is
only ever a link the donor clicks, never a redirect, so it can never make Goodloop an open
redirect; and an origin the nonprofit listed is a site it already vouches for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.errors import CampaignNotFound
from campaigns.giving import repository
from campaigns.giving.availability import is_public

MAX_RETURN_TO_LENGTH = 2000
"""Longer host addresses are dropped: Stripe caps its success URL, and a real page is shorter."""


@dataclass(frozen=True)
class ReturnLink:
    """The page a donor came from, fit to show as "Back to <host>"."""

    url: str
    host: str


def return_link(value: str | None, allowed_origins: Sequence[str]) -> ReturnLink | None:
    """`value` as a link back, when its origin is exactly one the campaign allows; else None."""
    if not value or len(value) > MAX_RETURN_TO_LENGTH or not value.isprintable() or " " in value:
        return None
    if "\\" in value:
        return None  # browsers read a backslash as a slash; urlsplit does not
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if parts.scheme not in ("https", "http") or not host or parts.username is not None or "@" in parts.netloc:
        return None
    origin = f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")
    if origin not in allowed_origins:
        return None
    url = urlunsplit((parts.scheme, parts.netloc.lower(), parts.path or "/", parts.query, ""))
    return ReturnLink(url=url, host=host.removeprefix("www."))


async def embed_origins(session: AsyncSession, *, slug: str) -> list[str]:
    """The origins that may frame the campaign's embed (the public campaign's, else not found)."""
    found = await repository.get_campaign_with_nonprofit(session, slug)
    if found is None or not is_public(found[0]):
        raise CampaignNotFound("no such campaign")
    return list(found[0].allowed_embed_origins)
