"""Server-rendered pages: templates, CSRF-checked forms, flash messages, sessions."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from starlette.background import BackgroundTask
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates, _TemplateResponse

from service.auth.secrets import constant_time_equals
from service.errors import Forbidden
from service.money import format_money
from service.validation import country_name
from service.web.language import page_language, remember, template_context
from service.web.urls import optional_path_for, path_for
from service.web.validation_messages import sentence, sentences

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


class _Templates(Jinja2Templates):
    """Every page's `errors` (field -> message) reach the template as sentences in the page's
    language (the context's `lang`), whichever page module renders them: the one place page
    messages are translated and finished (service/web/validation_messages.py,
    service/web/messages.py)."""

    def TemplateResponse(
        self,
        request: Request,
        name: str,
        context: dict[str, Any] | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> _TemplateResponse:
        context = _with_sentences(context)
        return super().TemplateResponse(request, name, context, status_code, headers, media_type, background)

    async def render_in_slices(self, request: Request, name: str, context: dict[str, Any]) -> str:
        """The text TemplateResponse(request, name, context) renders, rendered in slices of about
        SLICE_S that give the event loop back in between: a hot page's re-render (10-40 ms of
        template work) runs beside the cached copy's views instead of stalling them all, which
        was the page's slowest percentile (docs/scaling.md, "Campaign page: the fast path").
        No context processors are configured (TemplateResponse would run them)."""
        assert not self.context_processors
        context = {**_with_sentences(context)}
        context.setdefault("request", request)
        parts: list[str] = []
        deadline = time.perf_counter() + SLICE_S
        for i, part in enumerate(self.get_template(name).generate(context)):
            parts.append(part)
            if i % 32 == 0 and time.perf_counter() >= deadline:
                await asyncio.sleep(0)
                deadline = time.perf_counter() + SLICE_S
        return "".join(parts)


# How long a sliced render keeps the event loop before letting the views queued behind it run.
SLICE_S = 0.002


def _with_sentences(context: dict[str, Any] | None) -> dict[str, Any]:
    errors = (context or {}).get("errors")
    if isinstance(errors, Mapping):
        language = (context or {}).get("lang")
        return {
            **(context or {}),
            "errors": sentences(errors, language if isinstance(language, str) else None),
        }
    return context or {}


templates = _Templates(directory=str(TEMPLATES_DIR))
templates.env.add_extension("jinja2.ext.i18n")
# `{% trans %}`, `_()`, `gettext()` and `ngettext()` in every template: English until a render's
# context brings its language's callables (service.web.language.template_context), which
# `render` below does for every session page.
templates.env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
# Templates ship with the code; checking every file's mtime on every render costs a stat()
# per template per request on the hottest pages. Restart to pick up template edits.
templates.env.auto_reload = False
templates.env.filters["money"] = lambda amount, cur: format_money(int(amount), str(cur))
templates.env.globals["csrf_field"] = "csrf_token"
templates.env.filters["country_name"] = country_name


@jinja2.pass_context
def _sentence(context: jinja2.runtime.Context, text: str) -> str:
    """`{{ message|sentence }}`: a domain message translated into the page's language, finished."""
    language = context.get("lang")
    return sentence(
        text if isinstance(text, str) else str(text), language if isinstance(language, str) else None
    )


templates.env.filters["sentence"] = _sentence


@jinja2.pass_context
def _path_for(context: jinja2.runtime.Context, name: str, /, **params: Any) -> str:
    return path_for(context["request"], name, **params)


@jinja2.pass_context
def _optional_path_for(context: jinja2.runtime.Context, name: str, /, **params: Any) -> str | None:
    return optional_path_for(context["request"], name, **params)


# Templates link with `path_for('area:name', ...)`, never a hand-written path
# (tests/service/web/test_routes.py holds both); only the shared layout uses
# `optional_path_for`, for the sandbox's pages served without Goodloop around them.
templates.env.globals["path_for"] = _path_for
templates.env.globals["optional_path_for"] = _optional_path_for

_CSRF_KEY = "csrf"


class CsrfFailed(Forbidden):
    code = "csrf_failed"


def csrf_token(request: Request) -> str:
    """The session's synchronizer token, created on first use."""
    token = request.session.get(_CSRF_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[_CSRF_KEY] = token
    return token


async def read_form(request: Request, *, max_files: int = 0) -> FormData:
    """The only way page handlers read a POSTed form: it refuses a missing or wrong CSRF token.
    Files are refused unless the page takes uploads (max_files)."""
    form = await request.form(max_files=max_files, max_fields=200, max_part_size=256 * 1024)
    sent = form.get("csrf_token")
    expected = request.session.get(_CSRF_KEY)
    if not isinstance(sent, str) or not isinstance(expected, str) or not constant_time_equals(sent, expected):
        raise CsrfFailed("the form expired or did not come from this site; reload the page and try again")
    return form


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
    *,
    language: str | None = None,
) -> Response:
    """A session page in the reader's language (`language`, else service.web.language's rule)."""
    lang = language or page_language(request)
    ctx = {
        **template_context(lang),
        "csrf_token": csrf_token(request),
        "flashes": pop_flashes(request),
        **(context or {}),
    }
    response: Response = templates.TemplateResponse(request, template, ctx, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = str(ctx["lang"])
    remember(request, response)
    return response


def flash(request: Request, message: str) -> None:
    request.session.setdefault("flashes", []).append(message)


def pop_flashes(request: Request) -> list[str]:
    messages = request.session.pop("flashes", [])
    return [str(m) for m in messages] if isinstance(messages, list) else []


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def form_values(form: FormData) -> dict[str, str]:
    return {key: value for key, value in form.items() if isinstance(value, str) and key != "csrf_token"}
