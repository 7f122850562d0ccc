"""The console's front page: money, backlog and trouble at a glance."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from campaigns.console.auth import admin_page
from service.auth.models import Admin
from service.web.pages import render


@admin_page()
async def overview_page(request: Request, admin: Admin) -> Response:
    return render(request, "console/overview.html", {"admin": admin})


routes: list[BaseRoute] = [Route("/admin", overview_page, methods=["GET"])]
