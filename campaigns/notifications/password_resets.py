"""Forgotten passwords, for members (dashboard) and admins (console).

Asking: whoever types an address gets the same page, and the outbox gets exactly one message
to that address either way: a one-time link when it is an active account's, else a note that
no account has this address. So neither the answer, nor its timing (both render and enqueue
one email), nor anything outside that mailbox tells whether an account exists; only the
mailbox's owner learns it. Requests are rate limited per address and per network (the pages).

The link: 256 random bits, only its SHA-256 stored, valid RESET_LIFETIME from the unit's clock,
used once. Setting the password (argon2 and the strength rules of service.auth.secrets) uses it
and every other open link of that person, ends every session of theirs (dashboard or console;
the browser that resets was not signed in) and emails "your password was changed". Admins
have no second factor today; if one is added, a reset must only replace the password, never
sign in (it does not: the admin signs in afterwards like anyone). A "known browser" cookie
(service.auth.known_browsers) grants no access, only its own sign-in attempt allowance, so it
needs no revoking.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.nonprofits.actors import actor_for_member
from campaigns.nonprofits.models import Member
from campaigns.notifications.listener import AREA
from campaigns.notifications.models import PasswordReset, ResetAccount
from campaigns.notifications.preferences import language_of
from service import audit
from service.auth.models import Admin, SessionKind
from service.auth.secrets import hash_password_async, password_problem, token_digest
from service.auth.sessions import revoke_subject_sessions
from service.errors import NotFound, ValidationFailed
from service.mail.compose import compose
from service.mail.outbox import enqueue
from service.ratelimit import Limit
from service.unit_of_work import UnitOfWork

RESET_LIFETIME = timedelta(hours=1)


class ResetLinkInvalid(NotFound):
    code = "reset_link_invalid"


@dataclass(frozen=True)
class Area:
    """What differs between the dashboard's and the console's resets."""

    account: ResetAccount
    session_kind: SessionKind
    reset_route: str
    forgot_route: str
    per_address: Limit
    per_network: Limit


def _limits(prefix: str) -> tuple[Limit, Limit]:
    return (
        Limit(
            name=f"{prefix}password_reset_email",
            max_hits=3,
            window=timedelta(hours=1),
            message="we already sent a few links to this address; wait an hour and try again",
        ),
        Limit(
            name=f"{prefix}password_reset_client",
            max_hits=10,
            window=timedelta(hours=1),
            message="too many password reset requests from this network; wait an hour and try again",
        ),
    )


MEMBERS = Area(
    ResetAccount.MEMBER,
    SessionKind.MEMBER,
    "dashboard:reset_password",
    "dashboard:forgot_password",
    *_limits(""),
)
ADMINS = Area(
    ResetAccount.ADMIN,
    SessionKind.ADMIN,
    "console:reset_password",
    "console:forgot_password",
    *_limits("admin_"),
)


@dataclass(frozen=True)
class Account:
    id: uuid.UUID
    email: str
    row: Member | Admin


async def _account(session: AsyncSession, area: Area, email: str) -> Account | None:
    """The active account with this address, if any (a disabled admin has none)."""
    if area.account is ResetAccount.MEMBER:
        member = await session.scalar(sa.select(Member).where(Member.email == email))
        return Account(member.id, member.email, member) if member is not None else None
    admin = await session.scalar(sa.select(Admin).where(Admin.email == email))
    if admin is None or admin.disabled_at is not None:
        return None
    return Account(admin.id, admin.email, admin)


async def request_reset(session: UnitOfWork, *, area: Area, email: str, language: str) -> None:
    """Email a reset link to the account with this address, or a note that there is none.

    `language` is the asking browser's; a member's email is in their own language instead
    (only the mailbox's owner sees which, so it tells nobody else whether the account exists)."""
    address = email.strip().lower()
    account = await _account(session, area, address)
    if account is None:
        rendered = compose(
            AREA, "reset_unknown", language=language, email=address, forgot_route=area.forgot_route
        )
        await enqueue(session, key=f"password_reset:{uuid.uuid4()}", email=rendered.email(to=address))
        return
    token = secrets.token_urlsafe(32)
    reset = PasswordReset(
        id=uuid.uuid4(),
        account=area.account,
        subject_id=account.id,
        token_digest=token_digest(token),
        expires_at=session.now() + RESET_LIFETIME,
    )
    session.add(reset)
    await session.flush()
    language = await _language(session, account, language)
    rendered = compose(
        AREA, "reset_link", language=language, email=account.email, route=area.reset_route, token=token
    )
    await enqueue(session, key=f"password_reset:{reset.id}", email=rendered.email(to=account.email))


async def open_reset(session: UnitOfWork, *, area: Area, token: str, lock: bool = False) -> PasswordReset:
    """The unused, unexpired link this token opens; ResetLinkInvalid otherwise."""
    query = sa.select(PasswordReset).where(
        PasswordReset.token_digest == token_digest(token),
        PasswordReset.account == area.account,
        PasswordReset.used_at.is_(None),
    )
    reset = await session.scalar(query.with_for_update() if lock else query)
    if reset is None or reset.expires_at <= session.now():
        raise ResetLinkInvalid(
            "this link is not valid any more: it was used, or its hour is over; ask for a new one"
        )
    return reset


async def complete_reset(
    session: UnitOfWork, *, area: Area, token: str, new_password: str, language: str
) -> int:
    """Set the new password; returns how many sessions of the person ended."""
    reset = await open_reset(session, area=area, token=token, lock=True)
    problem = password_problem(new_password)
    if problem is not None:
        raise ValidationFailed({"new_password": problem})
    account = await _subject(session, area, reset.subject_id)
    now = session.now()
    account.row.password_hash = await hash_password_async(new_password)
    # This link and every other open one of this person: an older email must not work after.
    await session.execute(
        sa.update(PasswordReset)
        .where(
            PasswordReset.account == area.account,
            PasswordReset.subject_id == account.id,
            PasswordReset.used_at.is_(None),
        )
        .values(used_at=now)
    )
    ended = await revoke_subject_sessions(session, kind=area.session_kind, subject_id=account.id, now=now)
    await _audit(session, area, account, ended)
    language = await _language(session, account, language)
    rendered = compose(
        AREA,
        "password_changed",
        language=language,
        email=account.email,
        changed_at=now,
        forgot_route=area.forgot_route,
    )
    await enqueue(session, key=f"password_changed:{reset.id}", email=rendered.email(to=account.email))
    return ended


async def confirm_password_changed(session: UnitOfWork, *, member: Member) -> None:
    """The confirmation a member gets when they changed their password themselves (the
    dashboard's password page): a stolen session must not change it unnoticed."""
    now = session.now()
    rendered = compose(
        AREA,
        "password_changed",
        language=await language_of(session, member),
        email=member.email,
        changed_at=now,
        forgot_route=MEMBERS.forgot_route,
    )
    key = f"password_changed:{member.id}:{now.isoformat()}"
    await enqueue(session, key=key, email=rendered.email(to=member.email))


async def _language(session: AsyncSession, account: Account, asked_in: str) -> str:
    """A member's own language for their account's email; an admin's browser's (admins have no
    preference); `asked_in` is the language of the page the request came from."""
    if isinstance(account.row, Member):
        return await language_of(session, account.row)
    return asked_in


async def _subject(session: AsyncSession, area: Area, subject_id: uuid.UUID) -> Account:
    row: Member | Admin | None
    if area.account is ResetAccount.MEMBER:
        row = await session.get(Member, subject_id)
    else:
        row = await session.get(Admin, subject_id)
        # Disabled after the link was sent: the link dies with the account.
        if row is not None and row.disabled_at is not None:
            row = None
    if row is None:
        raise ResetLinkInvalid("this link is not valid any more; ask for a new one")
    return Account(row.id, row.email, row)


async def _audit(session: AsyncSession, area: Area, account: Account, ended: int) -> None:
    actor: audit.AuditActor | None
    nonprofit_id: uuid.UUID | None = None
    if isinstance(account.row, Member):
        actor = await actor_for_member(session, member_id=account.id)
        nonprofit_id = account.row.nonprofit_id
    else:
        actor = account.row
    assert actor is not None
    await audit.record(
        session,
        actor=actor,
        action=f"{area.account.value}.password_reset",
        subject_type=area.account.value,
        subject_id=str(account.id),
        nonprofit_id=nonprofit_id,
        after={"sessions_ended": ended},
    )
