"""Conditional GETs: whether a request's If-None-Match names the representation we would send."""

from __future__ import annotations

from starlette.requests import Request


def etag_matches(request: Request, etag: str) -> bool:
    """RFC 9110 If-None-Match: `*`, or any listed tag equal to ours (weak comparison, so a
    cache's `W/"..."` copy of our tag matches too). `etag` is ours, quoted."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)
