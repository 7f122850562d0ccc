"""Admin accounts: creation from the CLI, bearer-token and password authentication."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from service import audit
from service.auth.models import Admin, AdminRole, SessionKind
from service.auth.secrets import (
    hash_password_async,
    issue_token,
    password_problem,
    token_digest,
    verify_password_async,
)
from service.auth.sessions import revoke_subject_sessions
from service.db import add_unique
from service.errors import Conflict, Forbidden, NotFound, Unauthenticated, ValidationFailed
from service.unit_of_work import UnitOfWork

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


async def authenticate_admin(session: UnitOfWork, *, token: str) -> Admin:
    admin = await session.scalar(sa.select(Admin).where(Admin.token_digest == token_digest(token)))
    if admin is None or admin.disabled_at is not None:
        raise Unauthenticated("the admin token is not valid")
    admin.last_used_at = session.now()
    return admin


async def authenticate_admin_password(session: UnitOfWork, *, email: str, password: str) -> Admin:
    """The console's sign-in: an unknown email costs the same argon2 run as a wrong password."""
    admin = await _admin_by_email(session, email)
    if not await verify_password_async(admin.password_hash if admin else None, password) or admin is None:
        raise Unauthenticated(
            "that email and password do not match an admin account", code="invalid_credentials"
        )
    # Only said once the password matched, so it reveals nothing to someone guessing.
    if admin.disabled_at is not None:
        raise Forbidden("this admin account is disabled", code="admin_disabled")
    admin.last_used_at = session.now()
    return admin


async def set_admin_password(session: UnitOfWork, *, email: str, password: str) -> Admin:
    """Set (or replace) an admin's console password; run from the CLI, so the actor is the system."""
    problem = password_problem(password)
    if problem is not None:
        raise ValidationFailed({"password": problem})
    admin = await _admin_by_email(session, email)
    if admin is None:
        raise NotFound(f"no admin with email {email.strip().lower()}", code="admin_not_found")
    admin.password_hash = await hash_password_async(password)
    # A new password is also a way out after a suspected compromise: every console session of
    # this admin ends, so whoever held one signs in with the new password or not at all.
    await revoke_subject_sessions(session, kind=SessionKind.ADMIN, subject_id=admin.id, now=session.now())
    await audit.record(
        session,
        actor=audit.SystemActor("goodloop cli"),
        action="admin.password_set",
        subject_type="admin",
        subject_id=str(admin.id),
    )
    return admin


async def get_admin(session: AsyncSession, admin_id: uuid.UUID) -> Admin | None:
    return await session.get(Admin, admin_id)


async def _admin_by_email(session: AsyncSession, email: str) -> Admin | None:
    return await session.scalar(sa.select(Admin).where(Admin.email == email.strip().lower()))


def require_role(admin: Admin, *roles: AdminRole) -> None:
    """Superadmins may do anything; everyone else needs one of the named roles."""
    if admin.role is AdminRole.SUPERADMIN or admin.role in roles:
        return
    raise Forbidden(f"this needs the {' or '.join(r.value for r in roles)} role", code="admin_role_required")
