"""QR codes of share links, as SVG: for posters (the dashboard's share kit) and for showing a
donor's own link in person (the thank-you page). One encoding everywhere, so a code printed
from the dashboard and one shown on a phone scan the same way."""

from __future__ import annotations

import base64
import io

import segno

# Medium error correction survives a scuffed poster or a cracked phone screen and keeps a
# short link's code small enough to scan from arm's length.
ERROR_LEVEL = "m"


def qr_svg(url: str, *, scale: int = 8, border: int = 4, title: str | None = None) -> bytes:
    """The QR code of `url` as a standalone SVG document: dark modules on white (so it also
    reads on a dark background), with the four-module quiet zone the standard asks for."""
    buffer = io.BytesIO()
    # make_qr, never segno.make: that picks a Micro QR code for short links, which most phone
    # cameras do not read.
    segno.make_qr(url, error=ERROR_LEVEL).save(
        buffer, kind="svg", scale=scale, border=border, xmldecl=False, svgns=True, light="#fff", title=title
    )
    return buffer.getvalue()


def qr_data_uri(url: str, *, title: str | None = None) -> str:
    """The SVG as a data: URI, to show inline (CSP allows data: images) and to download."""
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(url, title=title)).decode("ascii")
