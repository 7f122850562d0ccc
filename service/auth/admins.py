"""Admin accounts: creation from the CLI and bearer-token authentication."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.models import Admin, AdminRole
from service.auth.secrets import issue_token, token_digest
from service.db import add_unique, utcnow
from service.errors import Conflict, Forbidden, Unauthenticated

ADMIN_TOKEN_KIND = "admin"  # noqa: S105 - a token type label, not a secret


@dataclass(frozen=True)
class CreatedAdmin:
    admin: Admin
    token: str


async def create_admin(session: AsyncSession, *, email: str, role: AdminRole) -> CreatedAdmin:
    normalised = email.strip().lower()
    issued = issue_token(ADMIN_TOKEN_KIND)
    admin = Admin(email=normalised, role=role, token_prefix=issued.prefix, token_digest=issued.digest)
    await add_unique(
        session, admin, Conflict(f"an admin with email {normalised} already exists", code="admin_exists")
    )
    return CreatedAdmin(admin=admin, token=issued.plaintext)


async def authenticate_admin(session: AsyncSession, *, token: str) -> Admin:
    admin = await session.scalar(sa.select(Admin).where(Admin.token_digest == token_digest(token)))
    if admin is None or admin.disabled_at is not None:
        raise Unauthenticated("the admin token is not valid")
    admin.last_used_at = utcnow()
    return admin


def require_role(admin: Admin, *roles: AdminRole) -> None:
    """Superadmins may do anything; everyone else needs one of the named roles."""
    if admin.role is AdminRole.SUPERADMIN or admin.role in roles:
        return
    raise Forbidden(f"this needs the {' or '.join(r.value for r in roles)} role", code="admin_role_required")
