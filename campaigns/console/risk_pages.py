"""The risk signals page: every signal's weight, threshold and switch; superadmins edit them.

Any admin can read why matches are held; only a superadmin changes what holds them (the
service audits each change). One form per signal, so an error lands next to its own row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from campaigns.console.auth import admin_page, has_role
from campaigns.matching import risk_settings
from campaigns.matching.risk import REVIEW_SCORE
from service.auth.models import Admin, AdminRole
from service.errors import DomainError, ValidationFailed
from service.web.context import database
from service.web.pages import flash, form_values, read_form, redirect, render
from service.web.urls import path_for

EDITORS = (AdminRole.SUPERADMIN,)
MAX_WEIGHT = 1000
MAX_THRESHOLD = 1_000_000


@admin_page()
async def risk_page(request: Request, admin: Admin) -> Response:
    return await _page(request, admin)


async def _page(
    request: Request,
    admin: Admin,
    *,
    failed_code: str | None = None,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    async with database(request).transaction() as session:
        config = await risk_settings.load(session)
    context: dict[str, Any] = {
        "admin": admin,
        "signals": [config.settings[d.code] for d in risk_settings.SIGNALS],
        "hard_rules": risk_settings.HARD_RULES,
        "can_edit": has_role(admin, *EDITORS),
        "review_score": REVIEW_SCORE,
        "failed_code": failed_code,
        "values": values or {},
        "errors": errors or {},
    }
    return render(request, "console/risk.html", context, status_code, language="en")


def _whole(raw: str, *, most: int) -> int | None:
    text = raw.strip()
    if not text.isdigit() or int(text) > most:
        return None
    return int(text)


def parse_signal_form(
    values: Mapping[str, str], definition: risk_settings.SignalDefinition
) -> tuple[int | None, int | None, dict[str, str]]:
    """Weight and threshold as whole numbers; the threshold only for signals that have one."""
    errors: dict[str, str] = {}
    weight = _whole(values.get("weight", ""), most=MAX_WEIGHT)
    if weight is None:
        errors["weight"] = f"enter a whole number from 0 to {MAX_WEIGHT}"
    threshold = None
    if definition.threshold is not None:
        threshold = _whole(values.get("threshold", ""), most=MAX_THRESHOLD)
        if threshold is None or threshold < 1:
            errors["threshold"] = f"enter a whole number from 1 to {MAX_THRESHOLD}"
    return weight, threshold, errors


@admin_page(*EDITORS)
async def update_signal(request: Request, admin: Admin) -> Response:
    code: str = request.path_params["code"]
    values = form_values(await read_form(request))
    definition = risk_settings.DEFINITIONS.get(code)
    if definition is None:
        raise risk_settings.UnknownSignal(f"there is no risk signal {code!r}")
    weight, threshold, errors = parse_signal_form(values, definition)
    if errors or weight is None:
        return await _page(request, admin, failed_code=code, values=values, errors=errors, status_code=422)
    enabled = values.get("enabled") == "on"
    try:
        async with database(request).transaction() as session:
            await risk_settings.update(
                session, admin=admin, code=code, weight=weight, threshold=threshold, enabled=enabled
            )
    except ValidationFailed as e:
        return await _page(request, admin, failed_code=code, values=values, errors=e.fields, status_code=422)
    except DomainError as e:
        errors = {"form": e.detail}
        return await _page(
            request, admin, failed_code=code, values=values, errors=errors, status_code=e.status_code
        )
    flash(request, f"“{definition.label}” is saved; matches assessed from now on use it.")
    return redirect(f"{path_for(request, 'console:risk')}#signal-{code}")


routes: list[BaseRoute] = [
    Route("/risk", risk_page, methods=["GET"], name="risk"),
    Route("/risk/{code:str}", update_signal, methods=["POST"], name="risk_signal_update"),
]
