"""What a supporter may write on a page, checked before anything is stored.

- Name, title and story run through moderation's keyword screen; a flagged page is kept and
  waits for the nonprofit (like a flagged message on the wall), it is never refused outright,
  because the screen flags and people decide.
- A title that is only the nonprofit's name or the campaign's title is refused: a supporter's
  page must not read as the organisation's own (impersonation). Compared case-, space- and
  punctuation-insensitively after NFKC, so "HARBOR  trust!" is "Harbor Trust".
- The story is Markdown rendered like a campaign story, then cleaned again without images: a
  stranger's page must not load pictures from anywhere (tracking pixels); the photo is the one
  image, uploaded and re-encoded here.
"""

from __future__ import annotations

import re
import unicodedata

import nh3

from campaigns.campaign.story import render_story
from campaigns.moderation.screen import ContentFlag, screen

_STORY_TAGS = {
    "p", "br", "strong", "em", "b", "i", "u", "s", "blockquote", "ul", "ol", "li", "h2", "h3", "h4", "a",
    "code", "pre", "hr",
}  # fmt: skip
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")
MAX_EMAIL_LENGTH = 320


def folded(text: str) -> str:
    """Letters and digits only, case-folded: what a reader takes the words to say."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


def impersonates(title: str, *, organisation_names: list[str]) -> bool:
    """The title is nothing but one of the organisation's own names."""
    wanted = folded(title)
    return bool(wanted) and any(wanted == folded(name) for name in organisation_names if folded(name))


def normalise_email(text: str) -> str | None:
    """Trimmed and lowercased, or None when it is not an address at all."""
    email = text.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        return None
    return email


def render_fundraiser_story(markdown: str) -> str:
    return nh3.clean(
        render_story(markdown),
        tags=_STORY_TAGS,
        attributes={"a": {"href", "title"}, "ol": {"start"}},
        url_schemes={"https", "http", "mailto"},
        link_rel="noopener noreferrer nofollow ugc",
        strip_comments=True,
    )


def screen_page(*, name: str, title: str, story_markdown: str) -> list[dict[str, str]]:
    """The keyword screen's flags over everything a visitor reads on the page (JSON-ready)."""
    flags: list[ContentFlag] = []
    seen: set[str] = set()
    for text in (name, title, story_markdown):
        for flag in screen(text):
            if flag.term not in seen:
                seen.add(flag.term)
                flags.append(flag)
    return [{"term": f.term, "category": f.category, "sentence": f.sentence} for f in flags]


_SLUG_CHARS = re.compile(r"[^a-z0-9]+")


def slug_base(text: str) -> str:
    """A URL-safe slug from a name or title: ascii letters and digits joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    slug = _SLUG_CHARS.sub("-", ascii_text).strip("-")[:60].strip("-")
    return slug or "page"
