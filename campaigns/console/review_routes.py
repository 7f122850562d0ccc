"""The console pages of match review, risk settings and finance, as one list for the console's routes."""

from __future__ import annotations

from starlette.routing import BaseRoute

from campaigns.console import finance_pages, review_pages, risk_pages, spike_pages

routes: list[BaseRoute] = [
    *spike_pages.routes,
    *review_pages.routes,
    *risk_pages.routes,
    *finance_pages.routes,
]
