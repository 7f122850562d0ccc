"""Emails render from their area's templates in the reader's language."""

from __future__ import annotations

import re
from datetime import date

import pytest
from babel.messages.pofile import read_po

from service import i18n
from service.mail.compose import compose, environment

SAMPLE = {"name": "<Anna & Co>", "amount_minor": 125_000, "currency": "eur", "day": date(2026, 12, 4)}


class TestCompose:
    def test_dutch(self) -> None:
        r = compose("mailbox", "sample", language="nl", **SAMPLE)

        assert r.subject == "Een bericht van Goodloop"
        assert r.language == "nl"
        assert "Hallo <Anna & Co>," in r.text
        assert "je gift van €\xa01.250,00 op 4 december 2026." in r.text
        assert "Goodloop, voor de goede doelen waaraan je geeft." in r.text
        assert '<html lang="nl">' in r.html
        assert "<title>Een bericht van Goodloop</title>" in r.html
        assert "Hallo &lt;Anna &amp; Co&gt;," in r.html

    def test_english(self) -> None:
        r = compose("mailbox", "sample", language="en", **SAMPLE)

        assert r.subject == "A message from Goodloop"
        assert "your gift of €1,250.00 on December 4, 2026." in r.text
        assert '<html lang="en">' in r.html
        assert "Goodloop, for the nonprofits you give to." in r.html

    def test_links_are_absolute_on_the_public_base_url(self) -> None:
        r = compose("mailbox", "sample", language="en", **SAMPLE)

        assert "Open Goodloop: http://testserver/" in r.text
        assert 'class="button" href="http://testserver/"' in r.html

    def test_the_text_part_is_not_html_escaped_and_has_no_runs_of_blank_lines(self) -> None:
        r = compose("mailbox", "sample", language="en", **SAMPLE)

        assert "&lt;" not in r.text
        assert "\n\n\n" not in r.text
        assert r.text.endswith("\n")

    def test_a_missing_variable_fails_loudly(self) -> None:
        with pytest.raises(Exception, match="amount_minor"):
            compose("mailbox", "sample", language="en", name="Anna", currency="eur", day=date(2026, 12, 4))

    def test_an_unknown_language_is_refused(self) -> None:
        with pytest.raises(ValueError, match="unknown language"):
            environment("de")


class TestI18n:
    @pytest.mark.parametrize(
        ("header", "language"),
        [
            (None, "en"),
            ("", "en"),
            ("nl", "nl"),
            ("nl-BE,nl;q=0.9,en;q=0.8", "nl"),
            ("en-GB,en;q=0.9,nl;q=0.8", "en"),
            ("de-DE,de;q=0.9,nl;q=0.7,en;q=0.5", "nl"),
            ("fr, en;q=0.1, nl;q=0.2", "nl"),
            ("nl;q=0, en", "en"),
            ("*", "en"),
            ("nl;q=bogus, en;q=0.3", "en"),
        ],
    )
    def test_negotiate(self, header: str | None, language: str) -> None:
        assert i18n.negotiate(header) == language

    @pytest.mark.parametrize(
        ("value", "language"),
        [("NL", "nl"), ("en_GB", "en"), ("nl-BE", "nl"), ("de", None), ("", None), (None, None)],
    )
    def test_normalise(self, value: str | None, language: str | None) -> None:
        assert i18n.normalise(value) == language

    def test_every_catalog_of_a_language_is_merged(self) -> None:
        dutch = i18n.translations("nl")

        # mail.po (this part's own) and whichever catalogs other parts keep beside it.
        assert dutch.gettext("Open Goodloop") == "Open Goodloop"
        assert dutch.gettext("Goodloop, for the nonprofits you give to.").startswith("Goodloop, voor")
        assert i18n.translations("en").gettext("Goodloop, for the nonprofits you give to.") == (
            "Goodloop, for the nonprofits you give to."
        )

    def test_every_catalog_parses_and_keeps_placeholders(self) -> None:
        for po in sorted((i18n.LOCALE_DIR / "nl" / "LC_MESSAGES").glob("*.po")):
            with po.open("rb") as f:
                catalog = read_po(f, locale="nl_NL")
            for message in catalog:
                if not isinstance(message.id, str) or not isinstance(message.string, str) or not message.id:
                    continue
                assert _placeholders(message.id) == _placeholders(message.string), (po.name, message.id)

    def test_money_and_dates_per_language(self) -> None:
        assert i18n.format_money(125_000, "eur", "nl") == "€\xa01.250,00"
        assert i18n.format_money(125_000, "eur", "en") == "€1,250.00"
        assert i18n.format_money(5_000, "jpy", "en") == "¥5,000"
        assert i18n.format_date(date(2026, 12, 4), "nl") == "4 december 2026"
        assert i18n.format_date(date(2026, 12, 4), "en") == "December 4, 2026"


def _placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"%\(\w+\)s|\{\{\s*\w+\s*\}\}", text))
