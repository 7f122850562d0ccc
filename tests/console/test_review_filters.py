"""The review pages' pure parts: filters as typed, amounts per currency, masked identities."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from campaigns.console.review_detail import mask_email, short_label
from campaigns.console.review_filters import export_query, parse_filters, query_string
from campaigns.console.review_repository import AmountBound
from campaigns.matching.models import MatchStatus


class TestParseFilters:
    def test_no_filters_means_the_held_queue(self) -> None:
        parsed = parse_filters({})
        assert parsed.filters.status is MatchStatus.HELD_FOR_REVIEW
        assert parsed.values["status"] == "held_for_review" and not parsed.errors

    def test_any_status(self) -> None:
        assert parse_filters({"status": "all"}).filters.status is None

    def test_each_bad_value_is_named_and_left_out(self) -> None:
        parsed = parse_filters(
            {
                "status": "lost",
                "program_id": "not-a-uuid",
                "min_weight": "-5",
                "signal": "DROP TABLE",
                "min_amount": "1e3",
                "older_than_days": "99999",
            }
        )
        assert set(parsed.errors) == {
            "status",
            "program_id",
            "min_weight",
            "signal",
            "min_amount",
            "older_than_days",
        }
        f = parsed.filters
        assert (f.program_id, f.min_weight, f.signal, f.min_amount, f.older_than_days) == (None,) * 5

    def test_an_upside_down_amount_range_is_refused(self) -> None:
        parsed = parse_filters({"min_amount": "50", "max_amount": "10"})
        assert "max_amount" in parsed.errors

    def test_good_values_are_read(self) -> None:
        program = uuid.uuid4()
        parsed = parse_filters(
            {
                "program_id": str(program),
                "min_weight": "100",
                "signal": "card_velocity",
                "older_than_days": "3",
            }
        )
        f = parsed.filters
        assert (f.program_id, f.min_weight, f.signal, f.older_than_days) == (program, 100, "card_velocity", 3)


class TestAmounts:
    def test_major_units_become_minor_units_of_each_currency(self) -> None:
        bound = AmountBound(major=Decimal("25.5"))
        assert bound.minor_in("eur", rounding=ROUND_CEILING) == 2_550
        assert bound.minor_in("kwd", rounding=ROUND_CEILING) == 25_500
        # Yen have no minor unit: a lower bound rounds up, an upper bound down.
        assert bound.minor_in("jpy", rounding=ROUND_CEILING) == 26
        assert bound.minor_in("jpy", rounding=ROUND_FLOOR) == 25


class TestQueryStrings:
    def test_only_set_filters_travel_with_the_cursor(self) -> None:
        values = parse_filters({"min_amount": "5", "signal": ""}).values
        assert query_string(values, cursor="abc") == "status=held_for_review&min_amount=5&cursor=abc"

    def test_the_export_takes_status_program_campaign_and_age(self) -> None:
        program = uuid.uuid4()
        filters = parse_filters(
            {"status": "all", "program_id": str(program), "min_weight": "100", "older_than_days": "2"}
        ).filters
        now = datetime(2026, 11, 28, 12, 30, 15, 999, tzinfo=UTC)
        assert (
            export_query(filters, now=now) == f"program_id={program}&until=2026-11-26T12%3A30%3A15%2B00%3A00"
        )


class TestMasking:
    def test_emails_keep_only_first_letters_and_the_top_level_domain(self) -> None:
        assert mask_email("Jane.Doe@Example.org") == "j***@e***.org"
        assert mask_email("x@mail.example.co.uk") == "x***@m***.uk"
        assert mask_email(None) == "no email"

    def test_fingerprints_become_short_digest_labels(self) -> None:
        label = short_label("card", "fp_1234567890abcdef")
        assert label.startswith("card ") and len(label) == len("card ") + 6
        assert "1234567890" not in label
        assert label == short_label("card", "fp_1234567890abcdef") != short_label("card", "fp_other")
        assert short_label("card", None) == ""
