"""The site's own pages around the donor's path: privacy notice, terms of use, favicon.

The privacy notice and terms are the operator's Markdown files (GOODLOOP_PRIVACY_MARKDOWN,
GOODLOOP_TERMS_MARKDOWN; production refuses to start without them), rendered and sanitised
like campaign stories. Without them, development shows a built-in template that says plainly
it must be replaced.
"""

from __future__ import annotations

import functools
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from campaigns.campaign.story import render_story
from campaigns.giving import languages
from service import i18n
from service.web.context import settings
from service.web.language import gettext_for, template_context
from service.web.messages import N_
from service.web.pages import STATIC_DIR, TEMPLATES_DIR, templates

BUILT_IN = TEMPLATES_DIR / "giving"
_TITLES = {"privacy": N_("Privacy notice"), "terms": N_("Terms of use")}
# The text changes only when the operator edits the file: caches may keep it a few minutes.
_PAGE_CACHE = "public, max-age=300"
_FAVICON_CACHE = "public, max-age=86400"


def document_html(path: Path) -> str:
    """The file's Markdown as safe HTML, re-rendered only when the file changes."""
    stat = path.stat()
    return _rendered(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _rendered(path: Path, mtime_ns: int, size: int) -> str:
    return render_story(path.read_text(encoding="utf-8"))


def in_language(path: Path, language: str) -> Path:
    """`privacy.nl.md` beside `privacy.md` when there is one: the document in `language`.
    The operator's files follow the same rule (GOODLOOP_PRIVACY_MARKDOWN=/etc/privacy.md
    is served to Dutch readers as /etc/privacy.nl.md when that file exists)."""
    if language == i18n.SOURCE_LANGUAGE:
        return path
    translated = path.with_name(f"{path.stem}.{language}{path.suffix}")
    return translated if translated.is_file() else path


def _legal_page(request: Request, kind: str, operator_file: Path | None) -> Response:
    lang = languages.page_language(request, None)
    path = in_language(operator_file or BUILT_IN / f"{kind}.md", lang)
    response = templates.TemplateResponse(
        request,
        "giving/legal.html",
        {
            **template_context(lang),
            "title": gettext_for(lang)(_TITLES[kind]),
            "body_html": document_html(path),
            "built_in": operator_file is None,
        },
    )
    response.headers["Cache-Control"] = _PAGE_CACHE
    return languages.localise(request, response, lang)


async def privacy(request: Request) -> Response:
    return _legal_page(request, "privacy", settings(request).privacy_markdown)


async def terms(request: Request) -> Response:
    return _legal_page(request, "terms", settings(request).terms_markdown)


async def favicon(request: Request) -> Response:
    # Browsers ask for /favicon.ico whatever the page links; answering spares a 404 per visit.
    return FileResponse(
        STATIC_DIR / "favicon.ico", media_type="image/x-icon", headers={"Cache-Control": _FAVICON_CACHE}
    )


routes = [
    Route("/privacy", privacy, methods=["GET"], name="legal:privacy"),
    Route("/terms", terms, methods=["GET"], name="legal:terms"),
    Route("/favicon.ico", favicon, methods=["GET"], name="legal:favicon"),
]
