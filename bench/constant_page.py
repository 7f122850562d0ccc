"""A floor for the campaign page: the page's own response (status, headers, gzipped body, as
Goodloop sent it to a browser) answered as a constant by a Starlette route, served exactly like
hello-world. What no per-view work at all would reach with these bytes and headers; see
bench/campaign_page.py, which captures the response into GOODLOOP_BENCH_PAGE (JSON)."""

from __future__ import annotations

import json
import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

with open(os.environ["GOODLOOP_BENCH_PAGE"]) as captured:
    _PAGE = json.load(captured)
_BODY = bytes.fromhex(_PAGE["body"])
_HEADERS = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in _PAGE["headers"]]


async def page(request: Request) -> Response:
    response = Response(_BODY, status_code=_PAGE["status"])
    response.raw_headers += _HEADERS
    return response


app = Starlette(routes=[Route("/", page)])
