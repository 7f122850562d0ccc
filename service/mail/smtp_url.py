"""GOODLOOP_SMTP_URL and GOODLOOP_MAIL_FROM: what they may say and what they mean.

    smtps://user:pass@smtp.example.org          implicit TLS (port 465 unless given)
    smtp://user:pass@smtp.example.org           STARTTLS (port 587 unless given)
    smtp://127.0.0.1:1025                       a local relay or test server

`smtp://` upgrades the connection with STARTTLS whenever the server offers it, and in
production requires it for any host that is not the machine itself (mail and the password
never cross a network in clear). The user and password are URL-encoded (`%40` for `@`) and
never logged or shown: SmtpTarget's repr leaves the password out.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.utils import parseaddr
from urllib.parse import unquote, urlsplit

SCHEMES = {"smtp": 587, "smtps": 465}
LOCAL_HOSTS = {"localhost"}


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    implicit_tls: bool
    """smtps://: TLS from the first byte."""
    require_starttls: bool
    """smtp:// in production to another machine: refuse to go on without STARTTLS."""
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def parse_smtp_url(url: str, *, production: bool = False) -> SmtpTarget:
    """The server `url` names; ValueError says what is wrong (never repeating the password)."""
    problem = smtp_url_problem(url)
    if problem is not None:
        raise ValueError(f"GOODLOOP_SMTP_URL {problem}")
    parts = urlsplit(url)
    host = parts.hostname or ""
    implicit = parts.scheme == "smtps"
    return SmtpTarget(
        host=host,
        port=parts.port or SCHEMES[parts.scheme],
        implicit_tls=implicit,
        require_starttls=production and not implicit and not is_local(host),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def smtp_url_problem(url: str) -> str | None:
    """Why `url` cannot name an SMTP server, or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "is not a valid URL (a port out of range, or a password with an unencoded character)"
    if parts.scheme not in SCHEMES:
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


def is_local(host: str) -> bool:
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


def sender_domain(mail_from: str) -> str:
    """The domain of the sender's address: the right-hand side of every Message-ID we make."""
    return parseaddr(mail_from)[1].rpartition("@")[2].lower()
