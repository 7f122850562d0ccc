"""Verification and moderation queues: nonprofits waiting for verification, campaigns in review."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from campaigns.console.auth import admin_page
from service.auth.models import Admin, AdminRole
from service.web.pages import render


@admin_page(AdminRole.REVIEWER)
async def nonprofit_queue(request: Request, admin: Admin) -> Response:
    return render(request, "console/nonprofits.html", {"admin": admin, "items": []})


@admin_page(AdminRole.REVIEWER)
async def campaign_queue(request: Request, admin: Admin) -> Response:
    return render(request, "console/campaigns.html", {"admin": admin, "items": []})


routes: list[BaseRoute] = [
    Route("/admin/nonprofits", nonprofit_queue, methods=["GET"]),
    Route("/admin/campaigns", campaign_queue, methods=["GET"]),
]
