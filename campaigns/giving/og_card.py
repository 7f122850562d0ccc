"""The Open Graph card: a 1200x630 PNG that networks show when someone shares a campaign link.

Title, organisation, the match offer while one is live, and progress (total of the goal, a
bar, donors, what was matched). Drawn with Pillow from what it shows (`CardFacts`): the same
facts give the same bytes, so the card is cached by its facts in a small LRU per process and
its ETag is known before drawing. When the totals move the facts change, and so does the card.

Fonts: DejaVu Sans (regular and bold, open licence) from `service.fonts`: the system's where
Debian's fonts-dejavu-core is installed, else the subset bundled with Goodloop.
"""

from __future__ import annotations

import functools
import hashlib
import io
from collections import OrderedDict
from dataclasses import astuple, dataclass

import anyio.to_thread
from babel.numbers import format_decimal
from PIL import Image, ImageDraw, ImageFont

from campaigns.giving.progress import campaign_progress
from campaigns.giving.service import CampaignView
from campaigns.giving.share import best_offer, match_words
from service import fonts, i18n

WIDTH, HEIGHT = 1200, 630
# Part of every ETag: a change to the drawing makes new cards, also for unchanged facts.
LAYOUT_VERSION = 2

# The site's palette (service/static/app.css): ink on white is 15:1, muted on white 5.9:1.
_INK, _MUTED, _ACCENT, _TRACK = "#1d2330", "#5b6475", "#0b7a5a", "#e3e8ef"
_OFFER_FILL, _OFFER_LINE = "#fff8e1", "#e9c96a"
_LEFT, _RIGHT, _TOP = 80, 80, 64
_TEXT_WIDTH = WIDTH - _LEFT - _RIGHT
_FOOT_TOP = HEIGHT - 190  # where the progress block starts
_TITLE_SIZES = (72, 64, 56, 50, 44)
_TITLE_LINES = 3


@dataclass(frozen=True)
class CardFacts:
    """Everything drawn on a card, and nothing else: the cache key."""

    title: str
    organisation: str
    currency: str
    goal_minor: int
    raised_minor: int
    matched_minor: int
    donors_count: int
    offer: str | None
    language: str = i18n.DEFAULT_LANGUAGE
    """The card's words and money in this language (the page's og:image names it: ?lang=)."""

    @property
    def total_minor(self) -> int:
        return self.raised_minor + self.matched_minor

    @property
    def version(self) -> str:
        key = repr((LAYOUT_VERSION, astuple(self))).encode()
        return hashlib.sha256(key).hexdigest()[:24]

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


def card_facts(view: CampaignView, language: str = i18n.DEFAULT_LANGUAGE) -> CardFacts:
    progress = campaign_progress(view.campaign)
    offer = best_offer(view.match_offers)
    return CardFacts(
        title=view.campaign.title,
        organisation=view.nonprofit.name,
        currency=progress.currency,
        goal_minor=progress.goal_minor,
        raised_minor=progress.raised_minor,
        matched_minor=progress.matched_minor,
        donors_count=progress.donors_count,
        offer=match_words(offer, language) if offer else None,
        language=language,
    )


@functools.lru_cache(maxsize=32)
def font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(str(fonts.dejavu_dir() / (fonts.BOLD if bold else fonts.REGULAR)), size)
    except OSError:
        return ImageFont.load_default(size=size)


Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def _width(draw: ImageDraw.ImageDraw, text: str, face: Font) -> float:
    return draw.textlength(text, font=face)


def wrap(draw: ImageDraw.ImageDraw, text: str, face: Font, width: int) -> list[str]:
    """Greedy word wrap; a word wider than the line is cut where it must be."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if _width(draw, candidate, face) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while _width(draw, word, face) > width:
            cut = _longest_prefix(draw, word, face, width)
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return lines


def _longest_prefix(draw: ImageDraw.ImageDraw, text: str, face: Font, width: float) -> int:
    """How many leading characters fit `width` (at least one, so wrapping always advances)."""
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if _width(draw, text[:middle], face) <= width:
            low = middle
        else:
            high = middle - 1
    return low


def fit_lines(
    draw: ImageDraw.ImageDraw, text: str, face: Font, width: int, max_lines: int
) -> tuple[list[str], bool]:
    """At most max_lines, the last ending in an ellipsis when the text was longer."""
    lines = wrap(draw, text, face, width)
    if len(lines) <= max_lines:
        return lines, True
    kept = lines[:max_lines]
    # The rest of the text on the last line, cut to fit: "by Harbor Relief Associ…".
    last = " ".join(lines[max_lines - 1 :])
    if _width(draw, last + "…", face) > width:
        last = last[: _longest_prefix(draw, last + "…", face, width) - 1].rstrip()
    kept[-1] = last + "…"
    return kept, False


def _title_block(draw: ImageDraw.ImageDraw, title: str, room: int) -> tuple[Font, list[str], int]:
    """The largest title size whose wrapped lines fit `room` pixels and three lines."""
    for size in _TITLE_SIZES:
        face = font(size, bold=True)
        lines, whole = fit_lines(draw, title, face, _TEXT_WIDTH, _TITLE_LINES)
        step = int(size * 1.18)
        if whole and step * len(lines) <= room:
            return face, lines, step
    size = _TITLE_SIZES[-1]
    face = font(size, bold=True)
    step = int(size * 1.18)
    lines, _ = fit_lines(draw, title, face, _TEXT_WIDTH, max(1, min(_TITLE_LINES, room // step)))
    return face, lines, step


def _offer_banner(draw: ImageDraw.ImageDraw, offer: str, top: int) -> int:
    text = offer[:1].upper() + offer[1:]
    face = font(30, bold=True)
    for size in (30, 27, 24):
        face = font(size, bold=True)
        if _width(draw, text, face) <= _TEXT_WIDTH - 48:
            break
    [line], _ = fit_lines(draw, text, face, _TEXT_WIDTH - 48, 1)
    height = 64
    draw.rounded_rectangle(
        (_LEFT, top, _LEFT + _TEXT_WIDTH, top + height),
        radius=14,
        fill=_OFFER_FILL,
        outline=_OFFER_LINE,
        width=2,
    )
    draw.text((_LEFT + 24, top + height // 2), line, font=face, fill=_INK, anchor="lm")
    return top + height


def _progress_block(draw: ImageDraw.ImageDraw, facts: CardFacts) -> None:
    translations = i18n.translations(facts.language)
    _ = translations.gettext

    def money(amount_minor: int) -> str:
        return i18n.format_money(amount_minor, facts.currency, facts.language)

    goal = max(facts.goal_minor, 1)
    percent = min(100, max(0, facts.total_minor) * 100 // goal)
    top = _FOOT_TOP
    total_face, of_face = font(52, bold=True), font(34)
    total_text = money(facts.total_minor)
    draw.text((_LEFT, top + 50), total_text, font=total_face, fill=_INK, anchor="ls")
    of_x = _LEFT + _width(draw, total_text, total_face) + 14
    draw.text(
        (of_x, top + 50),
        _("raised of %(goal)s") % {"goal": money(goal)},
        font=of_face,
        fill=_MUTED,
        anchor="ls",
    )
    draw.text((WIDTH - _RIGHT, top + 50), f"{percent}%", font=font(52, bold=True), fill=_ACCENT, anchor="rs")
    bar_top, bar_height = top + 74, 30
    draw.rounded_rectangle(
        (_LEFT, bar_top, WIDTH - _RIGHT, bar_top + bar_height), radius=bar_height // 2, fill=_TRACK
    )
    filled = _TEXT_WIDTH * percent // 100
    if filled > 0:
        right = _LEFT + max(filled, bar_height)
        draw.rounded_rectangle(
            (_LEFT, bar_top, right, bar_top + bar_height), radius=bar_height // 2, fill=_ACCENT
        )
    count = format_decimal(facts.donors_count, locale=i18n.babel_locale(facts.language))
    donors = (
        _("Be the first to give")
        if facts.donors_count == 0
        else translations.ngettext("%(count)s donor", "%(count)s donors", facts.donors_count)
        % {"count": count}
    )
    detail = donors
    if facts.matched_minor > 0:
        split = _("%(raised)s given + %(matched)s matched") % {
            "raised": money(facts.raised_minor),
            "matched": money(facts.matched_minor),
        }
        detail += f" · {split}"
    draw.text((_LEFT, bar_top + bar_height + 48), detail, font=font(32), fill=_MUTED, anchor="ls")


def draw_card(facts: CardFacts) -> bytes:
    image = Image.new("RGB", (WIDTH, HEIGHT), "#ffffff")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 16, HEIGHT), fill=_ACCENT)
    draw.text((_LEFT, _TOP), "Goodloop", font=font(30, bold=True), fill=_ACCENT, anchor="lt")
    organisation_face = font(34)
    offer_room = 64 + 28 if facts.offer else 0
    title_top = _TOP + 62
    room = _FOOT_TOP - 30 - title_top - 56 - offer_room
    face, lines, step = _title_block(draw, facts.title, room)
    # A short title sits in the middle of the free space rather than under the brand.
    y = title_top + max(0, room - step * len(lines)) // 2
    for line in lines:
        draw.text((_LEFT, y), line, font=face, fill=_INK, anchor="lt")
        y += step
    byline = i18n.translations(facts.language).gettext("by %(name)s") % {"name": facts.organisation}
    [organisation], _ = fit_lines(draw, byline, organisation_face, _TEXT_WIDTH, 1)
    draw.text((_LEFT, y + 8), organisation, font=organisation_face, fill=_MUTED, anchor="lt")
    if facts.offer:
        _offer_banner(draw, facts.offer, y + 64)
    _progress_block(draw, facts)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class CardCache:
    """Cards by their facts, the most recently used kept (a campaign's card changes with its
    totals, so old ones fall out by themselves). Lives in one event loop: the dictionary is
    only touched there; drawing happens in a worker thread."""

    def __init__(self, max_entries: int = 128) -> None:
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0
        self._cards: OrderedDict[CardFacts, bytes] = OrderedDict()

    async def get(self, facts: CardFacts) -> bytes:
        png = self._cards.get(facts)
        if png is not None:
            self.hits += 1
            self._cards.move_to_end(facts)
            return png
        self.misses += 1
        # Tens of milliseconds of CPU: off the event loop, so other requests are not held up.
        png = await anyio.to_thread.run_sync(draw_card, facts)
        self._cards[facts] = png
        while len(self._cards) > self.max_entries:
            self._cards.popitem(last=False)
        return png

    def __len__(self) -> int:
        return len(self._cards)


cards = CardCache()
