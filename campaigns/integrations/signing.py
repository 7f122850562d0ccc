"""Signing secrets of outbound webhook endpoints: made, kept encrypted, used to sign.

A receiver checks `Goodloop-Signature: t=<unix>,v1=<hex>` by computing HMAC-SHA256 of
`"<t>.<body>"` with the endpoint's secret, as Stripe's receivers do. HMAC needs the secret
itself, so it cannot be stored as a hash the way API keys are: it is encrypted at rest with
AES-256-GCM under a key derived from GOODLOOP_SECRET_KEY, the row's id bound in as associated
data (a ciphertext copied onto another endpoint's row does not decrypt). Rotating
GOODLOOP_SECRET_KEY therefore makes stored secrets unreadable: roll each endpoint's secret after.

While a rolled secret's old value is still valid (24 hours), each delivery carries one `v1=`
per secret, newest first, so receivers still holding the old one keep verifying.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix every secret starts with, not a secret
_VERSION = "v1"
_NONCE_BYTES = 12


class SecretUnreadable(Exception):
    """A stored secret does not decrypt under this GOODLOOP_SECRET_KEY (rotated key, or tampering)."""


def new_secret() -> str:
    """`whsec_` and 256 random bits as hex."""
    return SECRET_PREFIX + secrets.token_hex(32)


def _cipher(secret_key: str) -> AESGCM:
    # A key of its own for this purpose: the same GOODLOOP_SECRET_KEY also signs sessions.
    key = hmac.new(secret_key.encode(), b"goodloop:webhook-endpoint-secrets:v1", hashlib.sha256).digest()
    return AESGCM(key)


def encrypt(secret_key: str, *, endpoint_id: uuid.UUID, secret: str) -> str:
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = _cipher(secret_key).encrypt(nonce, secret.encode(), endpoint_id.bytes)
    return f"{_VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt(secret_key: str, *, endpoint_id: uuid.UUID, stored: str) -> str:
    version, _, payload = stored.partition(":")
    if version != _VERSION:
        raise SecretUnreadable("unknown secret format")
    try:
        raw = base64.urlsafe_b64decode(payload)
        plain = _cipher(secret_key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], endpoint_id.bytes)
    except (ValueError, InvalidTag) as e:
        raise SecretUnreadable("the secret does not decrypt with this GOODLOOP_SECRET_KEY") from e
    return plain.decode()


def signature(secret: str, *, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secrets_newest_first: Sequence[str], *, timestamp: int, body: bytes) -> str:
    """`t=<unix>,v1=<hex>[,v1=<hex>]`: one v1 per valid secret."""
    parts = [f"t={timestamp}"]
    parts += [f"v1={signature(s, timestamp=timestamp, body=body)}" for s in secrets_newest_first]
    return ",".join(parts)
