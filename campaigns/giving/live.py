"""What open campaign pages hear when a campaign's totals move: `progress` and `supporter` events.

Donations sit below giving in the domain order, so settlement calls this through its plug
(campaigns.donations.hooks.progress, wired in campaigns.wiring): after it recomputed a
campaign's totals, in the same unit of work, once per campaign the unit touched. The message
goes out through service.live: inside the transaction on PostgreSQL (delivered only if it
commits), after the commit on SQLite. The events carry the texts the page shows, formatted
here by the same functions as the rendered page (progress_texts, Supporter), so the page's
script never formats money and the live page reads exactly like a reloaded one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from campaigns.campaign.models import Campaign
from campaigns.donations.models import Donation
from campaigns.giving.progress import campaign_progress, progress_texts, texts_by_language
from campaigns.giving.repository import WALL_STATUSES, Supporter
from service import i18n
from service.live import Event, Message, publish
from service.money import format_money
from service.unit_of_work import UnitOfWork

PROGRESS = "progress"
SUPPORTER = "supporter"
MAX_SUPPORTERS_PER_MESSAGE = 10
"""A webhook batch may confirm hundreds of gifts to one campaign: pages show the newest."""


def topic_of(slug: str) -> str:
    return f"campaign:{slug}"


def progress_event(campaign: Campaign) -> dict[str, Any]:
    progress = campaign_progress(campaign)
    return {
        "currency": progress.currency,
        "goal_minor": progress.goal_minor,
        "raised_minor": progress.raised_minor,
        "matched_minor": progress.matched_minor,
        "total_minor": progress.total_minor,
        "donors_count": progress.donors_count,
        "percent": progress.percent,
        "bar_value": progress.bar_value,
        **progress_texts(progress),
        # One message serves every open page: each picks the texts of its own language.
        "texts": texts_by_language(progress),
    }


def supporter_event(donation: Donation) -> dict[str, Any]:
    """What the wall of support shows of this gift, decided by Supporter (name or "Anonymous",
    the amount unless the donor hid it, the message unless screened or hidden)."""
    supporter = Supporter.of(donation)
    amount = supporter.shown_amount_minor
    return {
        "id": str(supporter.donation_id),
        "name": supporter.display_name,
        "amount_text": None if amount is None else format_money(amount, supporter.currency),
        "message": supporter.shown_message,
        # Announced the moment it is confirmed; a reloaded page says the same for a while.
        "when_text": "just now",
        "texts": {language: _supporter_texts(supporter, language) for language in i18n.LANGUAGES},
    }


def _supporter_texts(supporter: Supporter, language: str) -> dict[str, str | None]:
    """What the wall shows of a new gift in `language` (live.js builds the line from these)."""
    _ = i18n.translations(language).gettext
    amount = supporter.shown_amount_minor
    return {
        "name": supporter.name_in(language),
        "amount_text": None
        if amount is None
        else _("gave %(amount)s") % {"amount": i18n.format_money(amount, supporter.currency, language)},
        "when_text": _("just now"),
    }


def progress_message(campaign: Campaign, confirmed: Sequence[Donation] = ()) -> Message:
    supporters: list[Event] = [
        (SUPPORTER, supporter_event(d)) for d in confirmed if d.status in WALL_STATUSES
    ][-MAX_SUPPORTERS_PER_MESSAGE:]
    return Message(
        topic=topic_of(campaign.slug), latest={PROGRESS: progress_event(campaign)}, queued=tuple(supporters)
    )


async def on_totals_refreshed(session: UnitOfWork, campaign: Campaign, confirmed: Sequence[Donation]) -> None:
    """campaigns.donations.hooks.ProgressListener: tell the campaign's open pages."""
    await publish(session, progress_message(campaign, confirmed))
