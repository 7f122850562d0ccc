"""Password hashing (argon2) and high-entropy bearer tokens stored only as hashes."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

import anyio.to_thread
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

TEST_HASHING_ENV = "GOODLOOP_TEST_PASSWORD_HASHING"


def password_hasher(environ: Mapping[str, str] = os.environ) -> PasswordHasher:
    """argon2id with RFC 9106's low-memory profile (argon2-cffi's default: 64 MiB, 3 passes,
    about 150 ms a hash here), unless the test suite asks for the cheapest parameters.

    The suite hashes and verifies a password for nearly every organisation and sign-in it
    makes; at full cost that was minutes of CI. It is still argon2id, and a hash records its
    own parameters, so either hasher verifies the other's hashes. Production refuses the
    variable (service.settings).
    """
    if environ.get(TEST_HASHING_ENV) == "cheapest":
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher()


_hasher = password_hasher()

# A valid hash to verify against when the account does not exist, so a login for an unknown
# email costs the same time as one for a known email (no account enumeration by timing).
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"use at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > 1024:
        return "use at most 1024 characters"
    return None


@dataclass(frozen=True)
class IssuedToken:
    """A token shown once: `plaintext` goes to the caller, only `digest` is stored."""

    plaintext: str
    prefix: str
    digest: str


def issue_token(kind: str) -> IssuedToken:
    """Tokens look like `gl_<kind>_<8 visible chars>_<secret>`; the prefix identifies the key.

    The secret has 256 bits of entropy, so a fast hash (SHA-256) is safe to store and lets
    every API request authenticate with one indexed lookup instead of an argon2 run.
    """
    visible = secrets.token_hex(4)
    prefix = f"gl_{kind}_{visible}"
    plaintext = f"{prefix}_{secrets.token_urlsafe(32)}"
    return IssuedToken(plaintext=plaintext, prefix=prefix, digest=token_digest(plaintext))


def token_digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def token_kind(plaintext: str) -> str | None:
    parts = plaintext.split("_", 3)
    if len(parts) != 4 or parts[0] != "gl":
        return None
    return parts[1]


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


async def hash_password_async(password: str) -> str:
    """argon2 is deliberately slow (tens of ms); run it off the event loop."""
    return await anyio.to_thread.run_sync(hash_password, password)


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    return await anyio.to_thread.run_sync(verify_password, password_hash, password)
