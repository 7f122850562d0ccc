"""Signed values for the donor's path: form tokens, thank-you tokens, device and client hashes.

Why the donate form has no session CSRF token: the form must work inside a cross-site iframe
(the embed), where browsers do not send our SameSite=Lax session cookie, so a session-bound
token could never match there. Nor is there an ambient authority to protect: a donation
spends nobody's money until the donor pays on Stripe Checkout. What the form still needs is a
proof that the post came from a page we rendered recently for that campaign, which slows down
scripted card testing; a stateless, expiring signature over the slug gives exactly that
without a session.

They live in the neutral web layer because two packages' public pages sign with them: the
donate form (campaigns.giving) and the "Report this campaign" form (campaigns.moderation,
which sits below giving in the domain order).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import uuid
from datetime import timedelta

from itsdangerous import BadSignature, TimestampSigner

FORM_TOKEN_LIFETIME = timedelta(hours=12)
DEVICE_COOKIE = "gl_device"
DEVICE_COOKIE_MAX_AGE = 365 * 24 * 60 * 60
_FORM_SALT = "goodloop.donate-form.v1"


def form_token(secret_key: str, slug: str) -> str:
    return TimestampSigner(secret_key, salt=_FORM_SALT).sign(slug).decode()


def form_token_valid(secret_key: str, token: str | None, slug: str) -> bool:
    if not token:
        return False
    signer = TimestampSigner(secret_key, salt=_FORM_SALT)
    try:
        signed = signer.unsign(token, max_age=int(FORM_TOKEN_LIFETIME.total_seconds()))
    except BadSignature:
        return False
    return hmac.compare_digest(signed, slug.encode())


def _hmac(secret_key: str, purpose: str, value: str) -> str:
    return hmac.new(secret_key.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def thanks_token(secret_key: str, donation_id: uuid.UUID) -> str:
    """Put in the success URL; only its holder may read the donation's status."""
    return _hmac(secret_key, "thanks", str(donation_id))[:32]


def thanks_token_valid(secret_key: str, token: str | None, donation_id: uuid.UUID) -> bool:
    return bool(token) and hmac.compare_digest(thanks_token(secret_key, donation_id), str(token))


def new_device_id() -> str:
    """What secrets.token_urlsafe(24) returns, cut from a pool of the OS's random bytes.

    Every first visit to a page gets one (most views of a shared link are first visits), and
    one getrandom call per id cost more than the rest of the id: the pool reads the same
    source 256 ids at a time. A forked process starts with an empty pool (below), so no two
    processes hand out the same ids; list.pop is atomic, so no two threads do either.
    """
    try:
        return _device_ids.pop()
    except IndexError:
        raw = os.urandom(_DEVICE_ID_BYTES * _DEVICE_IDS_PER_READ)
        ids = [
            base64.urlsafe_b64encode(raw[i : i + _DEVICE_ID_BYTES]).rstrip(b"=").decode("ascii")
            for i in range(0, len(raw), _DEVICE_ID_BYTES)
        ]
        _device_ids.extend(ids[1:])
        return ids[0]


_DEVICE_ID_BYTES = 24
_DEVICE_IDS_PER_READ = 256
_device_ids: list[str] = []
os.register_at_fork(after_in_child=_device_ids.clear)


def device_hash(secret_key: str, device_id: str | None) -> str | None:
    """What is stored for the gl_device cookie: a keyed hash, so the cookie value never is."""
    return _hmac(secret_key, "device", device_id) if device_id else None


def client_hash(secret_key: str, address: str) -> str:
    return _hmac(secret_key, "client", address)
