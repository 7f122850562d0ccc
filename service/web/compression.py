"""Cached public pages sent gzip-compressed to browsers that accept it.

Every browser sends `Accept-Encoding: gzip, ...`; a campaign page is about 23 KB of HTML and
about a fifth of that gzipped, which is what a donor on a phone waits for and what the server
and the network spend per view. A cached page (service/web/microcache.py) is compressed once
per render, not per view (CachedPage.gzip_body), and served compressed by the normal path and
the fast path alike, with `Vary: Accept-Encoding` on both variants so a shared cache keeps them
apart.

Only pages that are the same for every visitor are compressed. Compressing a response that
holds a per-visitor secret next to something the request controls lets an attacker who can
send requests and see their sizes guess the secret a character at a time (BREACH); the cached
public pages carry no per-visitor secret (their form token is the campaign's, the same for
everyone) and reflect nothing from the request, while forms rendered per request (a donation
form with its errors, the dashboard with its session's CSRF token) stay uncompressed.

gzip only: it is in the standard library, and every browser takes it; Brotli would save a
little more, for a new compiled dependency.
"""

from __future__ import annotations

import functools
import gzip
import re

# Below this, the saving is smaller than the Content-Encoding and Vary headers it costs.
MIN_SIZE = 1024
# zlib's default. On the campaign page (23.7 KB): level 1 gives 4.8 KB in 71 us, 6 gives
# 4.2 KB in 152 us, 9 gives 4.2 KB in 165 us; spent once per render, not per view.
LEVEL = 6

CONTENT_ENCODING = (b"content-encoding", b"gzip")
VARY = "Accept-Encoding"

# RFC 9110, 12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ).
_QVALUE = re.compile(r"(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)")
_ZERO = re.compile(r"0(?:\.0{0,3})?")


def compress(body: bytes) -> bytes:
    """gzip with no timestamp: the same page compresses to the same bytes in every process (a
    shared cache, and the test comparing the fast and the normal path, see one variant)."""
    return gzip.compress(body, compresslevel=LEVEL, mtime=0)


def worth_compressing(body: bytes) -> bool:
    return len(body) >= MIN_SIZE


@functools.lru_cache(maxsize=256)
def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether a request's Accept-Encoding (the first such header, as Starlette's Headers.get
    reads it) takes gzip (RFC 9110, 12.5.3): `gzip` or `x-gzip` with a weight above 0, or else
    `*` with a weight above 0. A coding whose weight cannot be read is not taken: identity is
    always acceptable, so doubt answers uncompressed. Remembered, like the pages' language
    negotiation: a viral page sees the same few headers again and again."""
    if not accept_encoding:
        return False
    named: bool | None = None
    anything = False
    for item in accept_encoding.split(","):
        coding, *parameters = (part.strip() for part in item.split(";"))
        coding = coding.lower()
        if coding in ("gzip", "x-gzip"):
            named = bool(named) or _weighted(parameters)
        elif coding == "*":
            anything = anything or _weighted(parameters)
    return anything if named is None else named


def _weighted(parameters: list[str]) -> bool:
    """Whether a coding's parameters give it a weight above 0 (none given: weight 1)."""
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            value = value.strip()
            return _QVALUE.fullmatch(value) is not None and _ZERO.fullmatch(value) is None
    return True
