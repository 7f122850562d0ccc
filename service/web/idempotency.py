"""Idempotent API writes: the `Idempotency-Key` header on every authenticated API POST.

A client that did not hear the answer to a POST (a timeout, a dropped connection) sends it
again with the same key and gets the first answer instead of a second gift of money or a second
campaign. How (docs/architecture.md, "Idempotent writes"):

- The key belongs to the caller: the nonprofit (all its API keys share one space of keys) or
  the admin. Two callers using the same key never meet.
- Before the endpoint runs, one `INSERT ... ON CONFLICT DO NOTHING` claims (caller, key) with a
  hash of the method, path, query and body, and commits. The UNIQUE constraint decides who runs:
  of N requests racing with one key exactly one inserts the row and runs the use case.
- The others, and every later request with that key, read the row: another request (other body,
  path or query) is `409 idempotency_key_reused`; while the first still runs it is
  `409 idempotency_key_in_progress` with `Retry-After: 1` (we answer rather than wait: a
  client retrying after a timeout learns at once, and no server task is held); once it
  finished, its stored status, headers and body come back with `Idempotent-Replayed: true`.
- What is stored: every answer below 500 except 429 (a rate limit is about when, not what).
  A 5xx, a 429 or an exception releases the claim, so the client may try again.
- Stored answers are sealed: status aside, the headers and body are one AES-256-GCM ciphertext
  in `response_body` under a key derived from GOODLOOP_SECRET_KEY, with (caller, key) bound in
  as associated data, because some answers show a secret once (a webhook endpoint's signing
  secret on create and roll-secret, a new API key) and a plain copy would sit in the table and
  its backups for a day. A sealed answer that no longer opens (the secret
  key was rotated, or the row was altered or copied onto another key) is answered
  `409 idempotency_key_unreadable`, not run again: the first request did run, and we never run a
  use case twice on a guess; the client checks what happened and uses a new key.
- Keys expire 24 hours after the first request: an expired key is free again, and the
  `purge_idempotency_keys` worker job deletes old rows.

A request whose answer was never stored (the process died between the endpoint's commit and
storing it) keeps answering `idempotency_key_in_progress` until its key expires: we never run
a use case twice on a guess.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import re
import secrets
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Final

import anyio
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.orm import Mapped, mapped_column
from starlette.requests import Request
from starlette.responses import Response

from service.db import Base, Database, UTCDateTime, insert_for, uuid_pk
from service.errors import DomainError
from service.web.context import database, settings
from service.worker import Job

HEADER: Final = "Idempotency-Key"
REPLAYED_HEADER: Final = "Idempotent-Replayed"
KEY_TTL: Final = timedelta(hours=24)
MAX_KEY_LENGTH: Final = 255
KEY_PATTERN: Final = r"^[!-~]([ -~]{0,253}[!-~])?$"
"""1 to 255 printable ASCII characters, not starting or ending with a space (HTTP trims those)."""
_KEY = re.compile(KEY_PATTERN)
_NOT_KEPT = frozenset({"content-length", "set-cookie", "date"})
"""Response headers not stored: recomputed, or never to be handed out twice."""
PURGE_BATCH: Final = 1000

Endpoint = Callable[[Request], Awaitable[Response]]
ErrorRenderer = Callable[[DomainError], Response]
CallerIdentity = Callable[[Request], Awaitable[str]]
"""Who the caller is, as a stable string (`nonprofit:<id>`, `admin:<id>`); raises Unauthenticated.
The app factory sets one as `app.state.api_caller_identity` (the kinds of credentials live in
higher packages)."""


class IdempotencyKey(Base):
    """One caller's key: claimed while its first request runs, then holding that request's answer."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (sa.UniqueConstraint("actor", "key"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    actor: Mapped[str] = mapped_column(sa.String(80))
    key: Mapped[str] = mapped_column(sa.String(MAX_KEY_LENGTH))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    """SHA-256 of the method, path, query and body of the first request."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    """When the first request claimed the key (the unit's clock); the key expires KEY_TTL later."""
    status_code: Mapped[int | None] = mapped_column(sa.Integer())
    """None while the first request runs."""
    response_headers: Mapped[dict[str, str] | None] = mapped_column(sa.JSON())
    """Unused since answers are sealed (kept None): the headers travel inside `response_body`."""
    response_body: Mapped[bytes | None] = mapped_column(sa.LargeBinary())
    """The answer's headers and body, sealed (`_seal`); None while the first request runs."""
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class InvalidIdempotencyKey(DomainError):
    code = "invalid_idempotency_key"
    status_code = 400


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status_code = 409


class IdempotencyKeyInProgress(DomainError):
    code = "idempotency_key_in_progress"
    status_code = 409
    retry_after_s = 1


class IdempotencyKeyUnreadable(DomainError):
    code = "idempotency_key_unreadable"
    status_code = 409


def applies_to(method: str, auth: str | None) -> bool:
    """Every authenticated POST of the API (not the donor's public endpoints, not Stripe's intake)."""
    return method == "POST" and auth == "bearer"


def openapi_parameter() -> dict[str, Any]:
    return {
        "name": HEADER,
        "in": "header",
        "required": False,
        "description": (
            "Makes the request safe to retry: a retry with the same key and the same request gets the "
            "first response again (with Idempotent-Replayed: true); the same key with another request "
            "is a 409 idempotency_key_reused, and while the first request runs a 409 "
            "idempotency_key_in_progress. Keys are the caller's own and expire after 24 hours."
        ),
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": KEY_PATTERN},
    }


def idempotent(endpoint: Endpoint, *, render_error: ErrorRenderer) -> Endpoint:
    """`endpoint` answering each (caller, Idempotency-Key) once; without the header it runs as is.
    `render_error` turns a 4xx DomainError into the response the API gives (stored like any)."""

    @functools.wraps(endpoint)
    async def run_once(request: Request) -> Response:
        raw = request.headers.get(HEADER)
        identify: CallerIdentity | None = getattr(request.app.state, "api_caller_identity", None)
        if raw is None or identify is None:
            return await endpoint(request)
        # Who first: a stranger hears 401, not what is wrong with a key.
        actor = await identify(request)
        if not _KEY.fullmatch(raw):
            raise InvalidIdempotencyKey(
                f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters, "
                "not starting or ending with a space"
            )
        db = database(request)
        secret_key = settings(request).secret_key
        claimed = await _claim(
            db, secret_key=secret_key, actor=actor, key=raw, request_hash=await _request_hash(request)
        )
        if isinstance(claimed, Response):
            return claimed
        try:
            response = await endpoint(request)
        except DomainError as e:
            if not _storable(e.status_code):
                await _release(db, claimed)
                raise
            response = render_error(e)
        except BaseException:
            await _release(db, claimed)
            raise
        body = getattr(response, "body", None)
        if isinstance(body, bytes) and _storable(response.status_code):
            await _complete(
                db, claimed, response, body, sealed_with=_cipher(secret_key), actor=actor, key=raw
            )
        else:
            await _release(db, claimed)
        return response

    return run_once


def _storable(status_code: int) -> bool:
    return status_code < 500 and status_code != 429


async def _request_hash(request: Request) -> str:
    digest = hashlib.sha256(f"{request.method} {request.url.path}?{request.url.query}\n".encode())
    digest.update(await request.body())
    return digest.hexdigest()


async def _claim(
    db: Database, *, secret_key: str, actor: str, key: str, request_hash: str
) -> uuid.UUID | Response:
    """The claim's id when this request runs; else the stored answer to replay (or a 409)."""
    mine = (IdempotencyKey.actor == actor, IdempotencyKey.key == key)
    async with db.transaction() as session:
        now = session.now()
        # An expired key is free again, whether or not the purge job has dropped it yet.
        await session.execute(
            sa.delete(IdempotencyKey).where(*mine, IdempotencyKey.created_at <= now - KEY_TTL)
        )
        claimed: uuid.UUID | None = await session.scalar(
            insert_for(session, IdempotencyKey)
            .values(id=uuid.uuid4(), actor=actor, key=key, request_hash=request_hash, created_at=now)
            .on_conflict_do_nothing()
            .returning(IdempotencyKey.id)
        )
        if claimed is not None:
            return claimed
        first = await session.scalar(sa.select(IdempotencyKey).where(*mine))
    if first is not None and first.request_hash != request_hash:
        raise IdempotencyKeyReused(
            f"this {HEADER} was used for another request (its method, path, query or body differ); "
            "use a new key for a new request"
        )
    if first is None or first.status_code is None or first.response_body is None:
        raise IdempotencyKeyInProgress(f"a request with this {HEADER} is still running; retry in a moment")
    try:
        headers, body = _open(_cipher(secret_key), first.response_body, actor=actor, key=key)
    except _Unreadable as e:
        raise IdempotencyKeyUnreadable(
            f"the first request with this {HEADER} finished, but its stored answer can no longer be "
            "read; check what it did, then use a new key"
        ) from e
    return _replay(first.status_code, headers, body)


def _replay(status_code: int, headers: Mapping[str, str], body: bytes) -> Response:
    return Response(body, status_code=status_code, headers={**headers, REPLAYED_HEADER: "true"})


_SEAL_VERSION: Final = b"\x01"
_NONCE_BYTES: Final = 12


class _Unreadable(Exception):
    """A sealed answer that does not open: another GOODLOOP_SECRET_KEY, or an altered row."""


def _cipher(secret_key: str) -> AESGCM:
    # A key of its own for this purpose: the same GOODLOOP_SECRET_KEY signs sessions too.
    derived = hmac.new(secret_key.encode(), b"goodloop:idempotent-answers:v1", hashlib.sha256).digest()
    return AESGCM(derived)


def _bound_to(actor: str, key: str) -> bytes:
    # Both are printable ASCII without NUL, so the separator keeps the pair unambiguous.
    return f"{actor}\x00{key}".encode()


def _seal(cipher: AESGCM, headers: Mapping[str, str], body: bytes, *, actor: str, key: str) -> bytes:
    """version, nonce, then AES-GCM of `<headers as JSON>\\n<body>` (JSON text holds no raw newline)."""
    plain = json.dumps(dict(headers), separators=(",", ":")).encode() + b"\n" + body
    nonce = secrets.token_bytes(_NONCE_BYTES)
    return _SEAL_VERSION + nonce + cipher.encrypt(nonce, plain, _bound_to(actor, key))


def _open(cipher: AESGCM, sealed: bytes, *, actor: str, key: str) -> tuple[dict[str, str], bytes]:
    version, nonce, ciphertext = sealed[:1], sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
    if version != _SEAL_VERSION:
        raise _Unreadable("unknown format")
    try:
        plain = cipher.decrypt(nonce, ciphertext, _bound_to(actor, key))
    except (ValueError, InvalidTag) as e:
        raise _Unreadable("does not decrypt with this GOODLOOP_SECRET_KEY for this caller and key") from e
    head, _, body = plain.partition(b"\n")
    headers = json.loads(head)
    return {str(name): str(value) for name, value in headers.items()}, body


async def _complete(
    db: Database,
    claimed: uuid.UUID,
    response: Response,
    body: bytes,
    *,
    sealed_with: AESGCM,
    actor: str,
    key: str,
) -> None:
    headers = {name: value for name, value in response.headers.items() if name.lower() not in _NOT_KEPT}
    sealed = _seal(sealed_with, headers, body, actor=actor, key=key)
    with anyio.CancelScope(shield=True):
        async with db.transaction() as session:
            await session.execute(
                sa.update(IdempotencyKey)
                .where(IdempotencyKey.id == claimed)
                .values(
                    status_code=response.status_code,
                    response_headers=sa.null(),
                    response_body=sealed,
                    completed_at=session.now(),
                )
            )


async def _release(db: Database, claimed: uuid.UUID) -> None:
    # Shielded: a client that hung up (cancellation) must not leave its key claimed forever.
    with anyio.CancelScope(shield=True):
        async with db.transaction() as session:
            await session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.id == claimed))


async def purge_expired(database: Database) -> int:
    """Drop keys older than KEY_TTL, a batch at a time (the worker runs again while it finds some)."""
    async with database.transaction() as session:
        cutoff = session.now() - KEY_TTL
        old = sa.select(IdempotencyKey.id).where(IdempotencyKey.created_at <= cutoff).limit(PURGE_BATCH)
        ids = list((await session.scalars(old)).all())
        if ids:
            await session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.id.in_(ids)))
        return len(ids)


JOB = Job("purge_idempotency_keys", purge_expired, timedelta(minutes=10))
