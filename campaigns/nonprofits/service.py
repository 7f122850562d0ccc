"""Use cases for nonprofits: sign-up, members and invites, API keys, verification."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.nonprofits import repository
from campaigns.nonprofits.actors import API_KEY_KIND, Actor
from campaigns.nonprofits.errors import (
    ApiKeyNotFound,
    EmailTaken,
    IllegalNonprofitTransition,
    InviteInvalid,
    NonprofitNotFound,
)
from campaigns.nonprofits.models import (
    ApiKey,
    Member,
    MemberInvite,
    MemberRole,
    Nonprofit,
    NonprofitStatus,
)
from campaigns.nonprofits.schemas import SignUpIn
from service import audit
from service.auth.models import Admin
from service.auth.secrets import (
    hash_password_async,
    issue_token,
    token_digest,
    verify_password_async,
)
from service.db import add_unique
from service.unit_of_work import UnitOfWork

INVITE_LIFETIME = timedelta(days=7)


@dataclass(frozen=True)
class SignedUp:
    nonprofit: Nonprofit
    owner: Member
    api_key: ApiKey
    api_key_plaintext: str


@dataclass(frozen=True)
class CreatedKey:
    api_key: ApiKey
    plaintext: str


@dataclass(frozen=True)
class CreatedInvite:
    invite: MemberInvite
    token: str


async def sign_up(session: AsyncSession, *, data: SignUpIn) -> SignedUp:
    """Create the organisation, its owner login (the contact email) and a first API key."""
    nonprofit = Nonprofit(
        name=data.name,
        contact_email=data.contact_email,
        country=data.country,
        registration_number=data.registration_number,
        website=data.website,
        status=NonprofitStatus.PENDING_VERIFICATION,
    )
    session.add(nonprofit)
    await session.flush()
    owner = Member(
        nonprofit_id=nonprofit.id,
        email=data.contact_email,
        role=MemberRole.OWNER,
        password_hash=await hash_password_async(data.password),
    )
    await add_unique(session, owner, EmailTaken("an account with this email already exists"))
    created = await create_api_key(session, nonprofit_id=nonprofit.id, name="default", member_id=owner.id)
    return SignedUp(
        nonprofit=nonprofit,
        owner=owner,
        api_key=created.api_key,
        api_key_plaintext=created.plaintext,
    )


async def authenticate_member(session: UnitOfWork, *, email: str, password: str) -> Member | None:
    member = await repository.get_member_by_email(session, email.strip().lower())
    if not await verify_password_async(member.password_hash if member else None, password) or member is None:
        return None
    member.last_login_at = session.now()
    return member


async def get_own_nonprofit(session: AsyncSession, *, actor: Actor) -> Nonprofit:
    nonprofit = await repository.get_nonprofit(session, actor.nonprofit_id)
    if nonprofit is None:
        raise NonprofitNotFound("the organisation no longer exists")
    return nonprofit


async def create_api_key(
    session: AsyncSession,
    *,
    nonprofit_id: uuid.UUID,
    name: str,
    member_id: uuid.UUID | None,
) -> CreatedKey:
    issued = issue_token(API_KEY_KIND)
    key = ApiKey(
        nonprofit_id=nonprofit_id,
        name=name,
        prefix=issued.prefix,
        digest=issued.digest,
        created_by_member_id=member_id,
    )
    session.add(key)
    await session.flush()
    return CreatedKey(api_key=key, plaintext=issued.plaintext)


async def create_api_key_as(session: AsyncSession, *, actor: Actor, name: str) -> CreatedKey:
    actor.require(MemberRole.OWNER)
    created = await create_api_key(
        session, nonprofit_id=actor.nonprofit_id, name=name, member_id=actor.member_id
    )
    await _audit(
        session,
        actor,
        "api_key.create",
        "api_key",
        created.api_key.id,
        after={"prefix": created.api_key.prefix},
    )
    return created


async def list_api_keys(session: AsyncSession, *, actor: Actor) -> Sequence[ApiKey]:
    actor.require(MemberRole.OWNER)
    return await repository.list_api_keys(session, actor.nonprofit_id)


async def revoke_api_key(session: UnitOfWork, *, actor: Actor, api_key_id: uuid.UUID) -> ApiKey:
    actor.require(MemberRole.OWNER)
    key = await repository.get_api_key(session, nonprofit_id=actor.nonprofit_id, api_key_id=api_key_id)
    if key is None:
        raise ApiKeyNotFound("no such API key")
    if key.revoked_at is None:
        key.revoked_at = session.now()
        await _audit(
            session,
            actor,
            "api_key.revoke",
            "api_key",
            key.id,
            after={"prefix": key.prefix},
        )
    return key


async def list_members(session: AsyncSession, *, actor: Actor) -> Sequence[Member]:
    return await repository.list_members(session, actor.nonprofit_id)


async def invite_member(session: UnitOfWork, *, actor: Actor, email: str, role: MemberRole) -> CreatedInvite:
    actor.require(MemberRole.OWNER)
    if await repository.get_member_by_email(session, email) is not None:
        raise EmailTaken("an account with this email already exists")
    token = secrets.token_urlsafe(32)
    invite = MemberInvite(
        nonprofit_id=actor.nonprofit_id,
        email=email,
        role=role,
        token_digest=token_digest(token),
        invited_by_member_id=actor.member_id,
        expires_at=session.now() + INVITE_LIFETIME,
    )
    session.add(invite)
    await session.flush()
    await _audit(
        session,
        actor,
        "member.invite",
        "member_invite",
        invite.id,
        after={"email": email, "role": role.value},
    )
    return CreatedInvite(invite=invite, token=token)


async def find_invite(session: UnitOfWork, *, token: str) -> MemberInvite:
    invite = await repository.get_open_invite(session, token_digest(token))
    if invite is None or invite.expires_at <= session.now():
        raise InviteInvalid("this invitation is not valid any more; ask for a new one")
    return invite


async def accept_invite(session: UnitOfWork, *, token: str, password: str) -> Member:
    invite = await find_invite(session, token=token)
    member = Member(
        nonprofit_id=invite.nonprofit_id,
        email=invite.email,
        role=invite.role,
        password_hash=await hash_password_async(password),
    )
    await add_unique(session, member, EmailTaken("an account with this email already exists"))
    invite.accepted_at = session.now()
    return member


async def verify_nonprofit(
    session: UnitOfWork, *, admin: Admin, nonprofit_id: uuid.UUID, note: str | None
) -> Nonprofit:
    return await _decide(
        session,
        admin=admin,
        nonprofit_id=nonprofit_id,
        to=NonprofitStatus.VERIFIED,
        reason=note,
    )


async def reject_nonprofit(
    session: UnitOfWork, *, admin: Admin, nonprofit_id: uuid.UUID, reason: str
) -> Nonprofit:
    return await _decide(
        session,
        admin=admin,
        nonprofit_id=nonprofit_id,
        to=NonprofitStatus.REJECTED,
        reason=reason,
    )


# Rejected organisations may fix their details and be verified later; a verified one can be
# rejected again (e.g. registration revoked).
_ALLOWED = {
    NonprofitStatus.PENDING_VERIFICATION: {
        NonprofitStatus.VERIFIED,
        NonprofitStatus.REJECTED,
    },
    NonprofitStatus.REJECTED: {NonprofitStatus.VERIFIED},
    NonprofitStatus.VERIFIED: {NonprofitStatus.REJECTED},
}


async def _decide(
    session: UnitOfWork,
    *,
    admin: Admin,
    nonprofit_id: uuid.UUID,
    to: NonprofitStatus,
    reason: str | None,
) -> Nonprofit:
    nonprofit = await repository.lock_nonprofit(session, nonprofit_id)
    if nonprofit is None:
        raise NonprofitNotFound("no such nonprofit")
    before = nonprofit.status
    if to not in _ALLOWED[before]:
        raise IllegalNonprofitTransition(f"a nonprofit that is {before.value} cannot become {to.value}")
    nonprofit.status = to
    nonprofit.status_reason = reason if to is NonprofitStatus.REJECTED else None
    nonprofit.verified_at = session.now() if to is NonprofitStatus.VERIFIED else None
    await audit.record(
        session,
        actor=admin,
        action="nonprofit.verify" if to is NonprofitStatus.VERIFIED else "nonprofit.reject",
        subject_type="nonprofit",
        subject_id=str(nonprofit.id),
        nonprofit_id=nonprofit.id,
        before={"status": before.value},
        after={"status": to.value},
        note=reason,
    )
    return nonprofit


async def _audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: uuid.UUID,
    *,
    after: dict[str, object],
) -> None:
    await audit.record(
        session,
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        nonprofit_id=actor.nonprofit_id,
        after=after,
    )


async def get_nonprofit(session: AsyncSession, *, nonprofit_id: uuid.UUID) -> Nonprofit:
    nonprofit = await repository.get_nonprofit(session, nonprofit_id)
    if nonprofit is None:
        raise NonprofitNotFound("no such nonprofit")
    return nonprofit


async def list_nonprofits(
    session: AsyncSession,
    *,
    status: NonprofitStatus | None,
    limit: int,
    cursor: str | None,
) -> list[Nonprofit]:
    return await repository.list_nonprofits(session, status=status, limit=limit, cursor=cursor)
