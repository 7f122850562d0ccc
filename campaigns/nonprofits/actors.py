"""Who is acting for a nonprofit: a logged-in member or an API key, and what they may do."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.nonprofits import repository
from campaigns.nonprofits.errors import RoleRequired
from campaigns.nonprofits.models import MemberRole
from service.audit import ActorType
from service.auth.secrets import token_digest
from service.errors import Unauthenticated
from service.unit_of_work import UnitOfWork

API_KEY_KIND = "key"
_RANK = {MemberRole.VIEWER: 0, MemberRole.EDITOR: 1, MemberRole.OWNER: 2}
# Writing last_used_at on every request would turn each read into a write; a minute is plenty.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Actor:
    nonprofit_id: uuid.UUID
    role: MemberRole
    member_id: uuid.UUID | None
    api_key_id: uuid.UUID | None
    label: str

    @property
    def actor_type(self) -> ActorType:
        return ActorType.MEMBER if self.member_id is not None else ActorType.API_KEY

    @property
    def actor_id(self) -> str:
        return str(self.member_id or self.api_key_id)

    def require(self, role: MemberRole) -> None:
        if _RANK[self.role] < _RANK[role]:
            raise RoleRequired(f"this needs the {role.value} role or higher")


async def actor_for_api_key(session: UnitOfWork, *, token: str) -> Actor:
    key = await repository.get_active_api_key_by_digest(session, token_digest(token))
    if key is None:
        raise Unauthenticated("the API key is not valid or was revoked", code="invalid_api_key")
    now = session.now()
    if key.last_used_at is None or now - key.last_used_at > _LAST_USED_RESOLUTION:
        key.last_used_at = now
    # An API key is the organisation's own secret: it can do what an owner can.
    return Actor(
        nonprofit_id=key.nonprofit_id,
        role=MemberRole.OWNER,
        member_id=None,
        api_key_id=key.id,
        label=f"api key {key.prefix}",
    )


async def actor_for_member(session: AsyncSession, *, member_id: uuid.UUID) -> Actor | None:
    member = await repository.get_member(session, member_id)
    if member is None:
        return None
    return Actor(
        nonprofit_id=member.nonprofit_id,
        role=member.role,
        member_id=member.id,
        api_key_id=None,
        label=member.email,
    )
