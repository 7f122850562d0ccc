"""What production asks of its secrets and addresses; settings.py names the variable in the error.

A secret key that is guessable signs anyone's session cookie. Its real entropy cannot be
measured from one sample, so these are estimates that refuse the keys people actually type
(one character repeated, a word repeated, the keyboard in order) and never the output of a
random generator: `secrets.token_urlsafe(32)`, `openssl rand -hex 16` or longer.
"""

from __future__ import annotations

import ipaddress
import itertools
import math
import re
from collections import Counter
from email.headerregistry import Address
from email.utils import parseaddr
from urllib.parse import urlsplit

MIN_SECRET_LENGTH = 32
MIN_DISTINCT_CHARACTERS = 8
MIN_ESTIMATED_BITS = 80.0
"""Shannon entropy of the key's own character frequencies times its length. 32 random hex
digits (128 bits) score about 115 and, over 200,000 draws, never under 90."""

# Stripe's endpoint secrets: `whsec_` and then at least 32 characters (dashboard endpoints
# use 32 alphanumerics, the Stripe CLI 64 hex digits).
_WEBHOOK_SECRET = re.compile(r"whsec_[A-Za-z0-9]{32,}")
_ADDRESS = re.compile(r"(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9.-]+)):(?P<port>[0-9]{1,5})")


def secret_problem(value: str) -> str | None:
    """Why `value` is too guessable to sign sessions or guard an endpoint, or None."""
    if len(value) < MIN_SECRET_LENGTH:
        return f"must be at least {MIN_SECRET_LENGTH} characters"
    distinct = len(set(value))
    if distinct < MIN_DISTINCT_CHARACTERS:
        return f"uses only {distinct} different characters"
    if _smallest_period(value) <= len(value) // 2:
        return "is a shorter sequence repeated"
    # Two thirds: 32 random hex digits, the most such neighbours of any generator's output,
    # get there about once in a billion draws (half was once in a hundred thousand).
    if _runs(value) > 2 * len(value) // 3:
        return "is mostly characters in keyboard or alphabet order"
    if estimated_bits(value) < MIN_ESTIMATED_BITS:
        return "repeats a few characters too often to be random"
    return None


def estimated_bits(value: str) -> float:
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values()) * n


def _smallest_period(value: str) -> int:
    """The length of the shortest p such that value[i] == value[i + p] throughout (KMP)."""
    border = [0] * len(value)
    k = 0
    for i in range(1, len(value)):
        while k and value[i] != value[k]:
            k = border[k - 1]
        if value[i] == value[k]:
            k += 1
        border[i] = k
    return len(value) - (border[-1] if value else 0)


def _runs(value: str) -> int:
    """Neighbours that repeat or step by one code point ('aa', 'ab', 'ba', '12')."""
    return sum(abs(ord(b) - ord(a)) <= 1 for a, b in itertools.pairwise(value))


def webhook_secret_problem(value: str) -> str | None:
    if _WEBHOOK_SECRET.fullmatch(value) is None:
        return (
            "must be the endpoint's signing secret from Stripe, shaped like whsec_ and 32+ letters or digits"
        )
    return None


def https_url_problem(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in value):
        return "must be the https:// address donors use, like https://give.example.org"
    return None


def parse_address(value: str) -> tuple[str, int] | None:
    """'host:port' or '[ipv6]:port' as (host, port); None when it is neither."""
    match = _ADDRESS.fullmatch(value.strip())
    if match is None:
        return None
    port = int(match["port"])
    if not 0 < port < 65536:
        return None
    return match["ipv6"] or match["host"], port


# GOODLOOP_SMTP_URL and GOODLOOP_MAIL_FROM (service/mail/smtp_url.py reads what they mean).
SMTP_SCHEMES = {"smtp": 587, "smtps": 465}
"""Each scheme's default port: submission with STARTTLS, and implicit TLS."""
LOCAL_HOSTS = {"localhost"}


def smtp_url_problem(url: str) -> str | None:
    """Why `url` cannot name an SMTP server, or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "is not a valid URL (a port out of range, or a password with an unencoded character)"
    if parts.scheme not in SMTP_SCHEMES:
        return "must start with smtp:// (STARTTLS) or smtps:// (TLS)"
    if not parts.hostname:
        return "names no host"
    if port == 0:
        return "has port 0"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return "must be smtp[s]://[user:password@]host[:port] and nothing more"
    if (parts.username is None) != (parts.password is None):
        return "must give both a user and a password, or neither"
    return None


def is_local_host(host: str) -> bool:
    if host in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def mail_from_problem(value: str) -> str | None:
    """Why `value` is not a sender such as `Goodloop <receipts@example.org>`, or None."""
    if any(c in value for c in "\r\n"):
        return "must be one line"
    name, address = parseaddr(value)
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain:
        return "must be an address such as 'Goodloop <receipts@example.org>'"
    try:
        Address(display_name=name, addr_spec=address)
    except (ValueError, IndexError):
        return "must be an address such as 'Goodloop <receipts@example.org>'"
    return None
