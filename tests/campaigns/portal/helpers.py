"""Drive the donor portal like a browser: ask for a link, read the email, follow it, sign in."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import httpx

from service.db import Database
from tests.mail_server import SmtpServer, parts

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LINK = re.compile(r"https?://[^\s\"<>]+/donor/sign-in/([A-Za-z0-9_\-]+)")


def csrf_in(page: str) -> str:
    match = _CSRF.search(page)
    assert match is not None, "the page has no CSRF field"
    return html.unescape(match.group(1))


async def ask_for_link(
    client: httpx.AsyncClient, email: str, *, headers: dict[str, str] | None = None
) -> httpx.Response:
    page = await client.get("/donor", headers=headers)
    assert page.status_code == 200, page.text
    return await client.post(
        "/donor", data={"csrf_token": csrf_in(page.text), "email": email}, headers=headers
    )


@dataclass(frozen=True)
class Mail:
    """An email as it arrived at the suite's SMTP server."""

    subject: str
    language: str
    text: str
    html: str


async def emails_to(smtp_server: SmtpServer, database: Database, address: str) -> list[Mail]:
    """Send what is due through the real sender, then every message that reached `address`."""
    await smtp_server.deliver(database)
    found = []
    for message in smtp_server.messages:
        if message["To"] == address:
            text, html_part = parts(message)
            found.append(Mail(str(message["Subject"]), str(message["Content-Language"]), text, html_part))
    return found


def token_in(text: str) -> str:
    match = LINK.search(text)
    assert match is not None, f"no sign-in link in {text!r}"
    return match.group(1)


async def follow_link(client: httpx.AsyncClient, token: str) -> httpx.Response:
    """Open the emailed link (a page with a button) and press Sign in."""
    page = await client.get(f"/donor/sign-in/{token}")
    if page.status_code != 200:
        return page
    return await client.post(f"/donor/sign-in/{token}", data={"csrf_token": csrf_in(page.text)})


async def sign_in(client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, email: str) -> None:
    asked = await ask_for_link(client, email)
    assert asked.status_code == 303, asked.text
    messages = await emails_to(smtp_server, database, email.strip().lower())
    assert messages, "no sign-in email"
    signed = await follow_link(client, token_in(messages[-1].text))
    assert signed.status_code == 303, signed.text
