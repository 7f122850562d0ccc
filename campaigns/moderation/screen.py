"""A keyword screen over a campaign's words: what a moderator should look at twice.

It flags, it never decides: a flag is shown next to the story in the moderation queue with a
sentence saying why the phrase matters. Text is NFKC-normalised and case-folded first, so
full-width letters or odd capitals do not slip past, and phrases match on word boundaries
("scam" does not flag "scampi").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class ContentFlag:
    term: str
    category: str
    sentence: str


_CATEGORIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "off_platform_payment": (
        "Asks for money outside Goodloop, where donors have no receipt, refund or match.",
        (
            "western union",
            "moneygram",
            "wire transfer",
            "bank transfer",
            "iban",
            "paypal.me",
            "venmo",
            "cash app",
            "cashapp",
            "zelle",
            "gift card",
            "gift cards",
            "send money to",
        ),
    ),
    "crypto_or_investment": (
        "Promises returns or asks for crypto: common in donation scams.",
        (
            "bitcoin",
            "btc",
            "ethereum",
            "usdt",
            "crypto wallet",
            "seed phrase",
            "guaranteed return",
            "double your money",
            "investment opportunity",
        ),
    ),
    "engagement_for_pay": (
        "Offers something for shares or donations: engagement bought this way is not real support.",
        (
            "follow for follow",
            "share to win",
            "giveaway",
            "raffle",
            "lottery",
            "prize draw",
            "every share earns",
        ),
    ),
    "health_claim": (
        "Makes a medical claim a reviewer should check against the nonprofit's registration.",
        ("miracle cure", "cures cancer", "cure cancer", "guaranteed cure"),
    ),
    "pressure": (
        "Pressures donors with threats or extreme urgency.",
        ("last chance or", "or else", "will die tonight", "act now or"),
    ),
    "hate_or_violence": (
        "May contain hateful or violent content.",
        ("kill them", "exterminate", "ethnic cleansing", "terrorist attack"),
    ),
}

_PATTERNS: tuple[tuple[re.Pattern[str], str, str, str], ...] = tuple(
    (re.compile(r"(?<!\w)" + re.escape(term) + r"(?!\w)"), term, category, sentence)
    for category, (sentence, terms) in _CATEGORIES.items()
    for term in terms
)


def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def screen(text: str) -> list[ContentFlag]:
    """Every phrase of the screen that the text contains, once each, in the screen's order."""
    words = normalise(text)
    return [
        ContentFlag(term=term, category=category, sentence=sentence)
        for pattern, term, category, sentence in _PATTERNS
        if pattern.search(words)
    ]


def screen_campaign(title: str, story_markdown: str) -> list[ContentFlag]:
    return screen(f"{title}\n{story_markdown}")
