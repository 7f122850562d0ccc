"""Amounts typed the way the page's language writes them (service.web.forms, issue #19)."""

from __future__ import annotations

import pytest
from babel.numbers import format_decimal
from hypothesis import given
from hypothesis import strategies as st

from service.i18n import babel_locale
from service.money import STRIPE_CURRENCIES, currency, to_major
from service.web.forms import AmountError, to_major_text, to_minor
from service.web.validation_messages import sentence

EUR = currency("eur")


class TestDutch:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("12,50", 1250),
            ("12,5", 1250),
            ("12", 1200),
            ("12,-", 1200),
            ("1.250,50", 125050),
            ("1.250", 125000),
            ("1.000.000", 100000000),
            ("1 250,50", 125050),
            (" 0,07 ", 7),
        ],
    )
    def test_reads_what_dutch_people_type(self, text: str, expected: int) -> None:
        assert to_minor(text, EUR, "nl") == expected

    def test_the_english_decimal_point_is_refused_with_a_dutch_sentence(self) -> None:
        with pytest.raises(AmountError) as caught:
            to_minor("12.50", EUR, "nl")
        assert sentence(str(caught.value), "nl") == "Gebruik een komma voor de centen, zoals 12,50."

    @pytest.mark.parametrize(
        "text", ["1.25.0", "12,505", "1.2", "12.5.0,1", "abc", "", "-5", "1e3", "١٢", "1,250.50"]
    )
    def test_refuses_what_is_not_an_exact_amount(self, text: str) -> None:
        with pytest.raises(AmountError) as caught:
            to_minor(text, EUR, "nl")
        message = sentence(str(caught.value), "nl")
        assert message.startswith(("Vul een bedrag in", "Gebruik een komma", "EUR heeft 2 decimalen")), (
            message
        )

    def test_too_many_decimals_names_the_currency_in_dutch(self) -> None:
        with pytest.raises(AmountError) as caught:
            to_minor("25,505", EUR, "nl")
        assert sentence(str(caught.value), "nl") == "EUR heeft 2 decimalen; 25,505 heeft er meer."
        with pytest.raises(AmountError) as caught:
            to_minor("5000,5", currency("jpy"), "nl")
        assert sentence(str(caught.value), "nl") == "JPY heeft geen decimalen; 5000,5 heeft er meer."


class TestEnglish:
    @pytest.mark.parametrize(
        ("text", "code", "expected"),
        [
            ("12.50", "eur", 1250),
            ("1,250.50", "eur", 125050),
            ("1,250", "eur", 125000),
            ("1.250", "kwd", 1250),
            ("5000", "jpy", 5000),
        ],
    )
    def test_reads_what_english_readers_type(self, text: str, code: str, expected: int) -> None:
        assert to_minor(text, currency(code), "en") == expected

    def test_the_dutch_comma_is_refused_with_an_english_sentence(self) -> None:
        with pytest.raises(AmountError) as caught:
            to_minor("12,50", EUR, "en")
        assert sentence(str(caught.value)) == "Use a point before the cents, like 12.50."
        # The same refusal reads in Dutch on a Dutch page that sent it through (a Message).
        assert sentence(str(caught.value), "nl") == "Gebruik een punt voor de centen, zoals 12.50."

    def test_the_default_is_english(self) -> None:
        assert to_minor("1,250.50", EUR) == 125050
        assert to_major_text(125050, "eur") == "1250.50"


_CODES = sorted(STRIPE_CURRENCIES)


@given(
    amount=st.integers(min_value=0, max_value=10**13),
    code=st.sampled_from(_CODES),
    language=st.sampled_from(["nl", "en"]),
)
def test_round_trip_through_the_form_field(amount: int, code: str, language: str) -> None:
    text = to_major_text(amount, code, language)
    assert to_minor(text, currency(code), language) == amount
    # The field shows the language's decimal separator, never the other one.
    assert ("," if language == "en" else ".") not in text


@given(
    amount=st.integers(min_value=0, max_value=10**13),
    code=st.sampled_from(_CODES),
    language=st.sampled_from(["nl", "en"]),
)
def test_reads_amounts_as_babel_writes_them_with_grouping(amount: int, code: str, language: str) -> None:
    cur = currency(code)
    text = format_decimal(
        to_major(amount, code),
        format="#,##0" + ("." + "0" * cur.exponent if cur.exponent else ""),
        locale=babel_locale(language),
    )
    assert to_minor(text, cur, language) == amount


@given(
    text=st.text(alphabet="0123456789.,- ", min_size=1, max_size=12),
    language=st.sampled_from(["nl", "en"]),
)
def test_anything_typed_is_an_exact_amount_or_a_sentence(text: str, language: str) -> None:
    try:
        minor = to_minor(text, EUR, language)
    except AmountError as e:
        refusal = sentence(str(e), language)
    else:
        assert minor >= 0
        # What was read is what the field would show again.
        assert to_minor(to_major_text(minor, "eur", language), EUR, language) == minor
        return
    assert refusal[:1].isupper() and refusal.endswith((".", ")")), refusal
