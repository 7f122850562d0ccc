"""What a donor shares: the words, one plain link per network, and the QR code of the link.

Built here on the server, in plain Python, so the words are tested and the page needs no
third-party script: each network's own "share" URL is an ordinary link that opens in a new
tab. The words name the campaign and, while a matching program would top up a gift, the match
("every gift is doubled until Friday 12 December"): the reason to give now rather than later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from campaigns.matching.quotes import Offer
from campaigns.sharing.qr import qr_data_uri
from service import i18n

_DOUBLED_BPS = 10_000


@dataclass(frozen=True)
class ChannelLink:
    key: str
    """Stable name for tests and styles: whatsapp, telegram, x, facebook, linkedin, email."""
    label: str
    href: str


@dataclass(frozen=True)
class ShareTools:
    """Everything the share block shows for one link."""

    url: str
    title: str
    """The campaign's title, for the Web Share API's `title`."""
    text: str
    """The prefilled words, without the link (networks and the share sheet add it)."""
    subject: str
    links: tuple[ChannelLink, ...]
    image_url: str | None = None
    """The Open Graph card, absolute (the campaign page's og:image)."""
    qr_data_uri: str | None = None
    """The link's QR code as an SVG data: URI (shown and downloadable on the thank-you page)."""


def best_offer(offers: Sequence[Offer]) -> Offer | None:
    """The offer worth telling friends about: the highest ratio, then the most money left."""
    return max(offers, key=lambda o: (o.ratio_bps, o.available_minor), default=None)


def last_day(ends_at: datetime) -> datetime:
    # A program ending at midnight ends *before* that day starts: "until Friday 12 December"
    # for one ending at 2026-12-13T00:00, never a day the donor could no longer be matched.
    return ends_at - timedelta(microseconds=1)


def match_words(offer: Offer, language: str = i18n.DEFAULT_LANGUAGE) -> str:
    """ "every gift is doubled until Friday 12 December", "every gift is matched 2:1 (up to
    €50.00 a gift) until ...": the live offer in words, for a sentence."""
    _ = i18n.translations(language).gettext
    day = i18n.format_date(last_day(offer.ends_at), language, format="EEEE d MMMM")
    cap = None
    if offer.per_donation_cap_minor is not None:
        cap = i18n.format_money(offer.per_donation_cap_minor, offer.currency, language)
    if offer.ratio_bps == _DOUBLED_BPS:
        if cap:
            return _("every gift is doubled (up to %(cap)s a gift) until %(day)s") % {"cap": cap, "day": day}
        return _("every gift is doubled until %(day)s") % {"day": day}
    values = {"ratio": offer.ratio_text, "cap": cap, "day": day}
    if cap:
        return _("every gift is matched %(ratio)s (up to %(cap)s a gift) until %(day)s") % values
    return _("every gift is matched %(ratio)s until %(day)s") % values


def share_text(
    *,
    title: str,
    organisation: str,
    offer: Offer | None,
    supporter: bool,
    language: str = i18n.DEFAULT_LANGUAGE,
) -> str:
    """A donor's words after giving ("I just gave to ..."), or anyone's from the campaign page."""
    _ = i18n.translations(language).gettext
    names = {"title": title, "organisation": organisation}
    opening = (
        _("I just gave to %(title)s (%(organisation)s).")
        if supporter
        else _("Support %(title)s (%(organisation)s).")
    ) % names
    match = f" {_sentence(match_words(offer, language))}." if offer else ""
    closing = " " + _("Will you join me?") if supporter else ""
    return opening + match + closing


def share_subject(*, title: str, supporter: bool, language: str = i18n.DEFAULT_LANGUAGE) -> str:
    _ = i18n.translations(language).gettext
    return (_("I just gave to %(title)s") if supporter else _("Support %(title)s")) % {"title": title}


def _sentence(words: str) -> str:
    return words[:1].upper() + words[1:]


def _q(value: str) -> str:
    # Everything escaped (also "/", "?", "&"), so a link inside a parameter stays one value.
    return quote(value, safe="")


def channel_links(*, url: str, text: str, subject: str) -> tuple[ChannelLink, ...]:
    """Each network's public share URL. Facebook and LinkedIn take only the link (they read
    the words and the picture from the page's Open Graph tags, hence the card)."""
    body = f"{text}\n\n{url}"
    return (
        ChannelLink("whatsapp", "WhatsApp", f"https://wa.me/?text={_q(f'{text} {url}')}"),
        ChannelLink("telegram", "Telegram", f"https://t.me/share/url?url={_q(url)}&text={_q(text)}"),
        ChannelLink("x", "X", f"https://x.com/intent/post?text={_q(text)}&url={_q(url)}"),
        ChannelLink("facebook", "Facebook", f"https://www.facebook.com/sharer/sharer.php?u={_q(url)}"),
        ChannelLink("linkedin", "LinkedIn", f"https://www.linkedin.com/sharing/share-offsite/?url={_q(url)}"),
        ChannelLink("email", "Email", f"mailto:?subject={_q(subject)}&body={_q(body)}"),
    )


def share_tools(
    *,
    url: str,
    title: str,
    organisation: str,
    offers: Sequence[Offer],
    supporter: bool,
    image_url: str | None = None,
    with_qr: bool = False,
    language: str = i18n.DEFAULT_LANGUAGE,
) -> ShareTools:
    offer = best_offer(offers)
    text = share_text(
        title=title, organisation=organisation, offer=offer, supporter=supporter, language=language
    )
    subject = share_subject(title=title, supporter=supporter, language=language)
    return ShareTools(
        url=url,
        title=title,
        text=text,
        subject=subject,
        links=channel_links(url=url, text=text, subject=subject),
        image_url=image_url,
        qr_data_uri=qr_data_uri(url, title=f"QR code of {url}") if with_qr else None,
    )
