"""Share words and network links (giving/share.py): built on the server, naming the campaign
and, while a program would match a gift, the match in words."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote, urlsplit

import segno

from campaigns.giving.share import best_offer, channel_links, match_words, share_text, share_tools
from campaigns.matching.quotes import Offer
from tests.campaigns.giving.qr_matrix import dark_modules, matrix_modules

URL = "https://goodloop.example/s/AbC-123_x"
FRIDAY_END = datetime(2026, 12, 12, 0, 0, tzinfo=UTC)  # ends as Saturday starts: Friday is the last day


def offer(ratio_bps: int = 10_000, *, cap: int | None = None, ends_at: datetime = FRIDAY_END) -> Offer:
    return Offer(
        program_name="Winter match",
        currency="eur",
        ratio_bps=ratio_bps,
        available_minor=500_000,
        per_donation_cap_minor=cap,
        ends_at=ends_at,
    )


class TestMatchWords:
    def test_one_to_one_doubles_every_gift_until_the_last_day(self) -> None:
        assert match_words(offer()) == "every gift is doubled until Friday 11 December"

    def test_a_program_ending_at_midnight_names_the_day_before(self) -> None:
        words = match_words(offer(ends_at=datetime(2026, 12, 13, 0, 0, tzinfo=UTC)))
        assert words.endswith("until Saturday 12 December")

    def test_a_program_ending_during_the_day_names_that_day(self) -> None:
        words = match_words(offer(ends_at=datetime(2026, 12, 12, 18, 0, tzinfo=UTC)))
        assert words.endswith("until Saturday 12 December")

    def test_other_ratios_are_named(self) -> None:
        assert match_words(offer(20_000)).startswith("every gift is matched 2:1 until ")
        assert match_words(offer(5_000)).startswith("every gift is matched 50% until ")
        assert match_words(offer(15_000)).startswith("every gift is matched 1.5:1 until ")

    def test_a_cap_per_gift_is_said(self) -> None:
        assert match_words(offer(cap=5_000)).startswith("every gift is doubled (up to €50.00 a gift) until ")


class TestShareText:
    def test_without_an_offer_the_campaign_is_named_and_nothing_is_promised(self) -> None:
        text = share_text(title="Winter coats", organisation="Harbor Relief", offer=None, supporter=False)
        assert text == "Support Winter coats (Harbor Relief)."

    def test_a_donor_says_they_gave_and_the_match_with_its_deadline(self) -> None:
        text = share_text(title="Winter coats", organisation="Harbor Relief", offer=offer(), supporter=True)
        assert text == (
            "I just gave to Winter coats (Harbor Relief). "
            "Every gift is doubled until Friday 11 December. Will you join me?"
        )

    def test_the_best_offer_is_the_one_told(self) -> None:
        small, large = offer(5_000), offer(20_000)
        assert best_offer([small, large]) is large
        assert best_offer([]) is None
        tools = share_tools(
            url=URL,
            title="Winter coats",
            organisation="Harbor Relief",
            offers=[small, large],
            supporter=False,
        )
        assert "matched 2:1" in tools.text


def _decoded(href: str) -> str:
    """Everything a network link says, decoded: its path and every query value."""
    parts = urlsplit(href)
    values = [v for vs in parse_qs(parts.query).values() for v in vs]
    return unquote(parts.path) + "\n" + "\n".join(values)


class TestChannelLinks:
    def test_every_network_carries_the_link_and_the_words_where_it_takes_them(self) -> None:
        text = "I just gave to Winter coats & hats. Will you join me?"
        links = {link.key: link for link in channel_links(url=URL, text=text, subject="I just gave")}

        assert list(links) == ["whatsapp", "telegram", "x", "facebook", "linkedin", "email"]
        for link in links.values():
            assert URL in _decoded(link.href), link
        for key in ("whatsapp", "telegram", "x", "email"):
            assert text in _decoded(links[key].href), key
        assert links["email"].href.startswith("mailto:?subject=I%20just%20gave&body=")
        assert links["x"].href.startswith("https://x.com/intent/post?")
        # "&" in the words stays inside the text parameter instead of starting a new one.
        assert parse_qs(urlsplit(links["telegram"].href).query)["text"] == [text]

    def test_the_qr_code_is_the_link_s_own(self) -> None:
        tools = share_tools(
            url=URL,
            title="Winter coats",
            organisation="Harbor Relief",
            offers=[],
            supporter=True,
            with_qr=True,
        )
        assert tools.qr_data_uri is not None
        svg = base64.b64decode(tools.qr_data_uri.removeprefix("data:image/svg+xml;base64,")).decode()
        expected = segno.make_qr(URL, error="m")
        assert not expected.is_micro  # a full QR code: phone cameras do not read Micro QR
        assert dark_modules(svg, border=4) == matrix_modules(expected.matrix)
        without = share_tools(url=URL, title="t", organisation="o", offers=[], supporter=False)
        assert without.qr_data_uri is None
