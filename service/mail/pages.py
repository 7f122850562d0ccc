"""/_sandbox/mail: development's mailbox, the mail the sender captured instead of sending.

Mounted only when mail is captured (development without GOODLOOP_SMTP_URL; never in
production: service/app.py checks `settings.captures_mail`). Each message reads as its
recipient would see it: the HTML part in a sandboxed frame served from its own route with a
policy that runs no script and loads nothing from anywhere (links open in a new tab), the
text part, the headers, and the attachments as downloads.
"""

from __future__ import annotations

import re
import uuid

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from service.mail import mailbox
from service.web.context import database
from service.web.pages import flash, read_form, redirect, render
from service.web.urls import path_for

FRAME_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "frame-ancestors 'self'; form-action 'none'; base-uri 'none'; "
    "sandbox allow-popups allow-popups-to-escape-sandbox"
)
"""The captured HTML's own policy: inline styles (as mail clients allow), nothing else."""
_HEAD = re.compile(rb"<head(?:\s[^>]*)?>", re.IGNORECASE)
_SAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


async def inbox(request: Request) -> Response:
    async with database(request).transaction() as session:
        messages = await mailbox.list_messages(session)
    return render(request, "mailbox/inbox.html", {"messages": messages, "opened": None})


async def message(request: Request) -> Response:
    message_id: uuid.UUID = request.path_params["message_id"]
    async with database(request).transaction() as session:
        messages = await mailbox.list_messages(session)
        found = await mailbox.raw_message(session, message_id)
    if found is None:
        raise HTTPException(404, "no such message in the mailbox")
    opened = mailbox.open_message(*found)
    return render(request, "mailbox/inbox.html", {"messages": messages, "opened": opened})


async def message_html(request: Request) -> Response:
    raw = await _raw(request)
    html = mailbox.open_message(*raw).html
    if html is None:
        raise HTTPException(404, "this message has no HTML part")
    body = html.encode()
    # Links in the captured mail open beside the mailbox, never inside its frame.
    base = b'<base target="_blank">'
    body = _HEAD.sub(lambda m: m.group(0) + base, body, count=1) if _HEAD.search(body) else base + body
    return Response(
        body,
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": FRAME_CSP,
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
        },
    )


async def download_raw(request: Request) -> Response:
    summary, raw = await _raw(request)
    return Response(
        raw,
        media_type="message/rfc822",
        headers={
            "Content-Disposition": f'attachment; filename="message-{summary.id}.eml"',
            "Cache-Control": "no-store",
        },
    )


async def download_attachment(request: Request) -> Response:
    _, raw = await _raw(request)
    found = mailbox.attachment(raw, int(request.path_params["index"]))
    if found is None:
        raise HTTPException(404, "no such attachment")
    filename, content_type, content = found
    return Response(
        content,
        media_type=content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{_SAFE_FILENAME.sub("_", filename)}"',
            "Cache-Control": "no-store",
        },
    )


async def clear(request: Request) -> Response:
    await read_form(request)
    async with database(request).transaction() as session:
        removed = await mailbox.clear(session)
    flash(request, f"Mailbox cleared ({removed} {'message' if removed == 1 else 'messages'}).")
    return redirect(path_for(request, "mailbox:inbox"))


async def _raw(request: Request) -> tuple[mailbox.Summary, bytes]:
    async with database(request).transaction() as session:
        found = await mailbox.raw_message(session, request.path_params["message_id"])
    if found is None:
        raise HTTPException(404, "no such message in the mailbox")
    return found


async def home(request: Request) -> Response:
    return redirect(path_for(request, "mailbox:inbox"))


def site_routes(prefix: str) -> list[BaseRoute]:
    """The mailbox's bare address (a Mount never matches its own prefix)."""
    return [Route(prefix, home, methods=["GET"], name="mailbox:home")]


routes: list[BaseRoute] = [
    Route("/", inbox, methods=["GET"], name="inbox"),
    Route("/clear", clear, methods=["POST"], name="clear"),
    Route("/{message_id:uuid}", message, methods=["GET"], name="message"),
    Route("/{message_id:uuid}/html", message_html, methods=["GET"], name="message_html"),
    Route("/{message_id:uuid}/raw", download_raw, methods=["GET"], name="raw"),
    Route(
        "/{message_id:uuid}/attachments/{index:int}", download_attachment, methods=["GET"], name="attachment"
    ),
]
"""Relative to the mount at SANDBOX_MAIL_PATH, named `mailbox:<name>`."""
