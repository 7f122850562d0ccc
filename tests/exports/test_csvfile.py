"""The CSV writer on its own: what each kind of cell becomes, and the bytes around the rows."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone

import pytest

from campaigns.exports.csvfile import Amount, CsvEncoder, format_cell


class TestCells:
    @pytest.mark.parametrize(
        ("minor", "currency", "text"),
        [
            (5_000, "jpy", "5000"),
            (1, "jpy", "1"),
            (12_345, "kwd", "12.345"),
            (10, "bhd", "0.010"),
            (2_550, "eur", "25.50"),
            (0, "usd", "0.00"),
            (7, "usd", "0.07"),
            (10**13, "usd", "100000000000.00"),
            (9_900, "isk", "99.00"),  # Stripe counts ISK in hundredths (service.money)
        ],
    )
    def test_amounts_use_the_currencys_exponent(self, minor: int, currency: str, text: str) -> None:
        assert format_cell(Amount(minor, currency)) == text

    @pytest.mark.parametrize("text", ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("x")'])
    def test_text_that_starts_a_formula_gets_an_apostrophe(self, text: str) -> None:
        assert format_cell(text) == "'" + text

    @pytest.mark.parametrize("text", ["Zoë", "a=b", "1-2", "O'Brien", "", " =padded"])
    def test_other_text_is_left_alone(self, text: str) -> None:
        assert format_cell(text) == text

    def test_dates_are_utc_iso_8601(self) -> None:
        dublin_summer = datetime(2026, 7, 1, 13, 5, 9, 123456, tzinfo=timezone(timedelta(hours=1)))

        assert format_cell(dublin_summer) == "2026-07-01T12:05:09Z"
        assert format_cell(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05Z"

    def test_booleans_numbers_and_nothing(self) -> None:
        assert [format_cell(v) for v in (True, False, 3, None)] == ["true", "false", "3", ""]


class TestEncoder:
    def test_bom_once_then_crlf_records_that_read_back(self) -> None:
        encoder = CsvEncoder()
        rows = [["name", "note"], ['Zoë "Z", Jr.', "line one\nline two"], ["=1+1", None]]

        first = encoder.encode(rows[:2])
        second = encoder.encode(rows[2:])

        assert first.startswith(b"\xef\xbb\xbf") and not second.startswith(b"\xef\xbb\xbf")
        assert first.endswith(b"\r\n") and second == b"'=1+1,\r\n"
        text = (first + second).decode("utf-8-sig")
        assert list(csv.reader(io.StringIO(text, newline=""))) == [
            ["name", "note"],
            ['Zoë "Z", Jr.', "line one\nline two"],
            ["'=1+1", ""],
        ]
