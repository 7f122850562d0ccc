"""The pure form layer: major units to minor units, dates, error placement, edit diffs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from campaigns.campaign.models import Campaign, CampaignStatus
from campaigns.dashboard import forms
from service.money import currency
from service.web import forms as amounts


def form(**overrides: str) -> dict[str, str]:
    values = {
        "title": "Winter coats",
        "slug": "winter-coats",
        "story": "Warm **coats**.",
        "currency": "eur",
        "goal": "5000",
        "suggested_amounts": "10 25.50 50",
        "min_amount": "",
        "max_amount": "",
        "starts_at": "",
        "ends_at": "",
        "cover_image_url": "",
        "allowed_embed_origins": "",
    }
    values.update(overrides)
    return values


class TestToMinor:
    @pytest.mark.parametrize(
        ("text", "code", "expected"),
        [
            ("25.50", "eur", 2550),
            ("25", "eur", 2500),
            ("0.07", "usd", 7),
            ("5000", "jpy", 5000),
            ("1.250", "kwd", 1250),
            ("12.5", "bhd", 12500),
            ("19.99", "eur", 1999),
        ],
    )
    def test_converts_major_units_exactly(self, text: str, code: str, expected: int) -> None:
        assert amounts.to_minor(text, currency(code)) == expected

    def test_large_amounts_keep_every_unit(self) -> None:
        # A float would turn this into ...99999 minor units.
        assert amounts.to_minor("9999999999.99", currency("usd")) == 999_999_999_999

    @pytest.mark.parametrize(
        ("text", "code", "message"),
        [
            ("25.505", "eur", "EUR has 2 decimal places"),
            ("5000.5", "jpy", "JPY has no decimal places"),
            ("1.2505", "kwd", "KWD has 3 decimal places"),
        ],
    )
    def test_refuses_more_decimals_than_the_currency_has(self, text: str, code: str, message: str) -> None:
        with pytest.raises(amounts.AmountError, match=message):
            amounts.to_minor(text, currency(code))

    def test_trailing_zeros_beyond_the_exponent_are_the_same_amount(self) -> None:
        assert amounts.to_minor("5000.00", currency("jpy")) == 5000

    @pytest.mark.parametrize("text", ["abc", "1e3", "-5", "25,50", "1.2.3", "", "NaN", "Infinity", "١٢"])
    def test_refuses_anything_but_digits_and_one_point(self, text: str) -> None:
        with pytest.raises(amounts.AmountError):
            amounts.to_minor(text, currency("eur"))


class TestParseCampaign:
    def test_builds_the_api_shape_in_minor_units(self) -> None:
        parsed = forms.parse_campaign(form(currency="usd", goal="1250.75", max_amount="500"))
        assert parsed.errors == {}
        assert parsed.data["goal_minor"] == 125_075
        assert parsed.data["suggested_amounts_minor"] == [1000, 2550, 5000]
        assert parsed.data["min_amount_minor"] is None
        assert parsed.data["max_amount_minor"] == 50_000

    def test_datetime_local_is_read_as_utc(self) -> None:
        parsed = forms.parse_campaign(form(starts_at="2026-12-01T09:30"))
        assert parsed.data["starts_at"] == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
        assert parsed.data["ends_at"] is None

    def test_unreadable_date_gets_a_message_next_to_it(self) -> None:
        parsed = forms.parse_campaign(form(ends_at="next tuesday"))
        assert "ends_at" in parsed.errors

    def test_origins_are_one_per_line(self) -> None:
        parsed = forms.parse_campaign(form(allowed_embed_origins="https://a.org\r\n\r\n  https://b.org  \n"))
        assert parsed.data["allowed_embed_origins"] == ["https://a.org", "https://b.org"]

    def test_story_line_breaks_are_stored_as_lf(self) -> None:
        parsed = forms.parse_campaign(form(story="one\r\ntwo"))
        assert parsed.data["story"] == "one\ntwo"

    def test_bad_suggested_amount_is_reported_on_the_suggested_field(self) -> None:
        parsed = forms.parse_campaign(form(suggested_amounts="10 25.555"))
        assert parsed.errors["suggested_amounts"].startswith("EUR has 2 decimal places")

    def test_without_a_currency_amounts_are_not_blamed(self) -> None:
        parsed = forms.parse_campaign(form(currency="xyz"))
        errors = parsed.with_schema_errors({"currency": "not supported", "goal_minor": "Field required"})
        assert errors == {"currency": "not supported"}

    def test_own_message_wins_over_the_schema_message(self) -> None:
        parsed = forms.parse_campaign(form(goal=""))
        errors = parsed.with_schema_errors({"goal_minor": "Field required", "slug": "bad slug"})
        assert errors == {"goal": "this field is required", "slug": "bad slug"}


class TestFormErrors:
    def test_schema_paths_land_on_form_fields(self) -> None:
        errors = forms.form_errors(
            {
                "goal_minor": "too big",
                "suggested_amounts_minor.2": "must be positive",
                "suggested_amounts_minor": "must lie between",
                "min_amount_minor": "too small",
                "allowed_embed_origins.1": "an origin has no path",
                "title": "required",
                "body": "odd",
            }
        )
        assert errors == {
            "goal": "too big",
            "suggested_amounts": "must be positive",
            "min_amount": "too small",
            "allowed_embed_origins": "line 2: an origin has no path",
            "title": "required",
            "form": "odd",
        }


def saved_campaign(**overrides: object) -> Campaign:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "nonprofit_id": uuid.uuid4(),
        "status": CampaignStatus.LIVE,
        "title": "Winter coats",
        "slug": "winter-coats",
        "story_markdown": "Warm\ncoats.",
        "story_html": "<p>Warm\ncoats.</p>",
        "currency": "eur",
        "goal_minor": 500_000,
        "starts_at": datetime(2026, 12, 1, 9, 30, 15, tzinfo=UTC),
        "ends_at": None,
        "suggested_amounts_minor": [1000, 2550],
        "min_amount_minor": 50,
        "max_amount_minor": None,
        "cover_image_url": None,
        "allowed_embed_origins": ["https://a.org"],
    }
    values.update(overrides)
    return Campaign(**values)


class TestCampaignValues:
    def test_saved_amounts_show_in_major_units(self) -> None:
        values = forms.campaign_values(saved_campaign())
        assert values["goal"] == "5000.00"
        assert values["suggested_amounts"] == "10.00 25.50"
        assert values["min_amount"] == "0.50"
        assert values["max_amount"] == ""
        assert values["starts_at"] == "2026-12-01T09:30"

    def test_round_trip_of_a_three_decimal_currency(self) -> None:
        values = forms.campaign_values(saved_campaign(currency="kwd", goal_minor=1250, min_amount_minor=1000))
        assert values["goal"] == "1.250"
        assert amounts.to_minor(values["goal"], currency("kwd")) == 1250


class TestParseCampaignChanges:
    def test_untouched_form_changes_nothing(self) -> None:
        campaign = saved_campaign()
        values = forms.campaign_values(campaign)
        values["story"] = values["story"].replace("\n", "\r\n")  # as a browser sends a textarea
        parsed = forms.parse_campaign_changes(values, campaign)
        assert parsed.data == {}
        assert parsed.errors == {}

    def test_only_the_changed_field_is_sent(self) -> None:
        campaign = saved_campaign()
        values = {**forms.campaign_values(campaign), "goal": "6000"}
        parsed = forms.parse_campaign_changes(values, campaign)
        assert parsed.data == {"goal_minor": 600_000}

    def test_new_currency_resends_every_amount(self) -> None:
        campaign = saved_campaign()
        values = {**forms.campaign_values(campaign), "currency": "jpy", "goal": "5000", "min_amount": "50"}
        values["suggested_amounts"] = "1000 2500"
        parsed = forms.parse_campaign_changes(values, campaign)
        assert parsed.data == {
            "currency": "jpy",
            "goal_minor": 5000,
            "min_amount_minor": 50,
            "max_amount_minor": None,
            "suggested_amounts_minor": [1000, 2500],
        }

    def test_cleared_optional_field_is_sent_as_none(self) -> None:
        campaign = saved_campaign(cover_image_url="https://img.example/a.png")
        values = {**forms.campaign_values(campaign), "cover_image_url": ""}
        parsed = forms.parse_campaign_changes(values, campaign)
        assert parsed.data == {"cover_image_url": None}

    def test_emptied_minimum_becomes_the_stripe_minimum(self) -> None:
        campaign = saved_campaign(min_amount_minor=500)
        values = {**forms.campaign_values(campaign), "min_amount": ""}
        parsed = forms.parse_campaign_changes(values, campaign)
        assert parsed.data == {"min_amount_minor": 50}
