"""What a supporter may write on a page, checked before anything is stored.

- Name, title and story run through moderation's keyword screen; a flagged page is kept and
  waits for the nonprofit (like a flagged message on the wall), it is never refused outright,
  because the screen flags and people decide.
- A title or a fundraiser's name that is only the nonprofit's name or the campaign's title is
  refused: a supporter's page must not read as the organisation's own (impersonation); "Sam
  runs for Water Aid" is fine. Both sides are compared as a reader sees them (`skeleton`), so
  look-alike letters cannot get around the rule: NFKC (full-width and mathematical letters),
  accents dropped, Cyrillic/Greek look-alikes mapped to the Latin letter they pass for (the
  Unicode confusables data, as packaged by confusable-homoglyphs), case folded, everything that
  is not a letter or digit dropped (spaces, dots, zero-width characters), and the digits and
  letter pairs that pass for one another in Latin itself (0/o, 1/l/i, rn/m) made one. So
  "W.a.t.e.r A.i.d", "W\u0430ter Aid" (a Cyrillic a) and "WATER\u200bAID" are all "Water Aid".
- The story is Markdown rendered like a campaign story, then cleaned again without images: a
  stranger's page must not load pictures from anywhere (tracking pixels); the photo is the one
  image, uploaded and re-encoded here.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
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


# Within Latin itself, what passes for what in most fonts (after case folding).
_LATIN_LOOKALIKES = (("rn", "m"), ("0", "o"), ("1", "l"), ("i", "l"))


@functools.cache
def _latin_lookalikes() -> dict[str, str]:
    """Each non-ASCII character that passes for one ASCII letter or digit, and that character.

    Read from the Unicode confusables data as the pinned confusable-homoglyphs package ships it
    (a JSON file; its Python API answers other questions), once per process.
    """
    data = importlib.resources.files("confusable_homoglyphs").joinpath("confusables.json")
    groups: dict[str, list[dict[str, str]]] = json.loads(data.read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for char, homoglyphs in groups.items():
        if len(char) != 1 or char.isascii():
            continue
        latin = [h["c"] for h in homoglyphs if len(h["c"]) == 1 and h["c"].isascii() and h["c"].isalnum()]
        if latin:
            found[char] = latin[0]
    return found


def _as_latin(text: str) -> str:
    lookalikes = _latin_lookalikes()
    return "".join(lookalikes.get(char, char) for char in text)


def skeleton(text: str) -> str:
    """What a reader takes the words to say: the same skeleton for text that looks the same."""
    composed = unicodedata.normalize("NFKC", text)
    unaccented = "".join(c for c in unicodedata.normalize("NFD", composed) if unicodedata.category(c) != "Mn")
    # Upper-case look-alikes first (Greek Eta passes for H, its lower case for n), then again
    # after folding for letters that only fold into a look-alike.
    folded = _as_latin(_as_latin(unaccented).casefold())
    letters = _NOT_WORD.sub("", folded)
    for seen, meant in _LATIN_LOOKALIKES:
        letters = letters.replace(seen, meant)
    return letters


def impersonates(text: str, *, organisation_names: list[str]) -> bool:
    """The title or name is nothing but one of the organisation's own names, however spelt."""
    wanted = skeleton(text)
    return bool(wanted) and wanted in {skeleton(name) for name in organisation_names}


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
