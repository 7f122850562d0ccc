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

from dataclasses import dataclass, field
from email.utils import parseaddr
from urllib.parse import unquote, urlsplit

from service.setting_checks import SMTP_SCHEMES as SCHEMES
from service.setting_checks import is_local_host as is_local
from service.setting_checks import mail_from_problem, smtp_url_problem

__all__ = ["SmtpTarget", "mail_from_problem", "parse_smtp_url", "sender_domain", "smtp_url_problem"]


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


def sender_domain(mail_from: str) -> str:
    """The domain of the sender's address: the right-hand side of every Message-ID we make."""
    return parseaddr(mail_from)[1].rpartition("@")[2].lower()
