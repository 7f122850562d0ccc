"""Invitations by email: the invite link goes to the invitee (the inviter still sees it once).

An invitation's email is keyed by what caused it: `invite:{invite id}` for the API (a retried
request carries its Idempotency-Key and is answered from the first), and for the dashboard
`invite:{nonprofit}:form:{submission}:{target}`, a one-time value the form carries and what
the form acts on, so a double-clicked button sends one email and creates one invitation (the
page rolls the second one back). One page render shares its value among the invite form and
every Resend button: the target (`resend:{invite id}`, or `new:` and a hash of the invited
address and role) keeps a second, different action from that page from being taken for a
double submit.
Resending gives the invitation a new token and a fresh week (the old link stops working) and
emails the new link, keyed by the new token or by the form's submission value.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.nonprofits import service as nonprofits
from campaigns.nonprofits.actors import Actor
from campaigns.nonprofits.models import Member, MemberInvite, MemberRole, Nonprofit
from campaigns.notifications.listener import AREA
from campaigns.notifications.preferences import default_language
from service import audit
from service.auth.secrets import token_digest
from service.errors import Conflict, NotFound
from service.mail import links
from service.mail.compose import compose
from service.mail.outbox import enqueue
from service.unit_of_work import UnitOfWork

_SUBMISSION = re.compile(r"[A-Za-z0-9_-]{16,64}")
OPEN_INVITES_SHOWN = 50


class InviteNotFound(NotFound):
    code = "invite_not_found"


class InviteAccepted(Conflict):
    code = "invite_accepted"


def new_submission() -> str:
    """A value a form carries once, so its double submit can be recognised."""
    return secrets.token_urlsafe(18)


def form_key(nonprofit_id: uuid.UUID, submission: str, *, target: str, fallback: str) -> str:
    """The outbox key of an email a dashboard form causes about `target` (new_invite_target,
    resend_target); `fallback` when the form sent no valid value."""
    if _SUBMISSION.fullmatch(submission):
        return f"invite:{nonprofit_id}:form:{submission}:{target}"
    return fallback


def new_invite_target(email: str, role: MemberRole) -> str:
    """What an invite form acts on: the address and role, hashed (outbox keys name no address)."""
    return "new:" + hashlib.sha256(f"{email.strip().lower()}\n{role.value}".encode()).hexdigest()[:24]


def resend_target(invite_id: uuid.UUID) -> str:
    return f"resend:{invite_id}"


class InviteEmails:
    """campaigns.nonprofits.hooks.InviteMail: what the nonprofits API asks when it invites."""

    async def email_invite(self, session: UnitOfWork, *, invite: MemberInvite, token: str, key: str) -> bool:
        return await email_invite(session, invite=invite, token=token, key=key)


INVITE_EMAILS = InviteEmails()


async def email_invite(session: UnitOfWork, *, invite: MemberInvite, token: str, key: str) -> bool:
    """Enqueue the invitation's email; False when `key` already sent one (a double submit)."""
    nonprofit = await session.get(Nonprofit, invite.nonprofit_id)
    assert nonprofit is not None
    inviter = await session.get(Member, invite.invited_by_member_id) if invite.invited_by_member_id else None
    rendered = compose(
        AREA,
        "invite",
        language=default_language(nonprofit.country),
        nonprofit_name=nonprofit.name,
        inviter=inviter.email if inviter is not None else None,
        role=invite.role.value,
        accept_url=links.url("dashboard:invite", token=token),
        expires_at=invite.expires_at,
    )
    # A reply reaches whoever invited, not a no-reply mailbox.
    email = rendered.email(to=invite.email, reply_to=inviter.email if inviter is not None else None)
    return await enqueue(session, key=key, email=email)


async def open_invites(session: AsyncSession, *, actor: Actor) -> Sequence[MemberInvite]:
    """The organisation's invitations nobody accepted yet (expired ones too: they can be resent)."""
    query = (
        sa.select(MemberInvite)
        .where(MemberInvite.nonprofit_id == actor.nonprofit_id, MemberInvite.accepted_at.is_(None))
        .order_by(MemberInvite.created_at.desc(), MemberInvite.id)
        .limit(OPEN_INVITES_SHOWN)
    )
    return (await session.scalars(query)).all()


async def resend_invite(
    session: UnitOfWork, *, actor: Actor, invite_id: uuid.UUID, submission: str | None = None
) -> tuple[nonprofits.CreatedInvite, bool]:
    """A new link for an open invitation, emailed; returns it and whether an email was enqueued
    (False: this submission already resent it, and the caller should roll back)."""
    actor.require(MemberRole.OWNER)
    invite = await session.scalar(
        sa.select(MemberInvite)
        .where(MemberInvite.id == invite_id, MemberInvite.nonprofit_id == actor.nonprofit_id)
        .with_for_update()
    )
    if invite is None:
        raise InviteNotFound("no such invitation in your organisation")
    if invite.accepted_at is not None:
        raise InviteAccepted("this invitation was already accepted")
    token = secrets.token_urlsafe(32)
    invite.token_digest = token_digest(token)
    invite.expires_at = session.now() + nonprofits.INVITE_LIFETIME
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="member.invite_resent",
        subject_type="member_invite",
        subject_id=str(invite.id),
        nonprofit_id=actor.nonprofit_id,
        after={"email": invite.email, "expires_at": invite.expires_at.isoformat()},
    )
    fallback = f"invite:{invite.id}:{invite.token_digest[:16]}"
    key = (
        form_key(actor.nonprofit_id, submission, target=resend_target(invite.id), fallback=fallback)
        if submission is not None
        else fallback
    )
    sent = await email_invite(session, invite=invite, token=token, key=key)
    return nonprofits.CreatedInvite(invite=invite, token=token), sent
