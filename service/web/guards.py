"""Guards shared by every package's routes: who may call an admin API endpoint.

Here, not in a package's routes, so no route module imports another's (docs/architecture.md,
"Routes and URLs"). A nonprofit's credentials resolve to an Actor, which lives in
campaigns.nonprofits; its guards are in campaigns/nonprofits/web.py.
"""

from __future__ import annotations

from starlette.requests import Request

from service.auth.admins import authenticate_admin, require_role
from service.auth.models import Admin, AdminRole
from service.auth.secrets import token_kind
from service.errors import Unauthenticated
from service.unit_of_work import UnitOfWork
from service.web.context import bearer_token


async def api_admin(request: Request, session: UnitOfWork, *roles: AdminRole) -> Admin:
    """The admin whose API token the request carries, holding one of `roles` (superadmins
    always do); Unauthenticated or Forbidden otherwise."""
    token = bearer_token(request)
    if token_kind(token) != "admin":
        raise Unauthenticated("this endpoint takes an admin token", code="invalid_admin_token")
    admin = await authenticate_admin(session, token=token)
    require_role(admin, *roles)
    return admin
