from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.money import (
    MoneyError,
    allocate,
    apply_ratio_bps,
    check_amount,
    currency,
    format_money,
    minimum_charge_minor,
)


class TestCurrency:
    @pytest.mark.parametrize(
        ("code", "exponent"), [("eur", 2), ("JPY", 0), ("kwd", 3), ("isk", 2), ("ugx", 0)]
    )
    def test_exponent_follows_stripe(self, code: str, exponent: int) -> None:
        assert currency(code).exponent == exponent

    def test_unknown_currency_is_refused(self) -> None:
        with pytest.raises(MoneyError):
            currency("xyz")


class TestCheckAmount:
    @pytest.mark.parametrize(
        ("amount", "code"), [(0, "eur"), (-5, "eur"), (12345, "kwd"), (150, "isk"), (True, "eur")]
    )
    def test_refuses_what_stripe_would_refuse(self, amount: int, code: str) -> None:
        with pytest.raises(MoneyError):
            check_amount(amount, code)

    @pytest.mark.parametrize(("amount", "code"), [(1, "eur"), (5, "jpy"), (12340, "kwd"), (500, "isk")])
    def test_accepts_valid_amounts(self, amount: int, code: str) -> None:
        check_amount(amount, code)

    def test_minimum_charge_falls_back_to_one_major_unit(self) -> None:
        assert minimum_charge_minor("eur") == 50
        assert minimum_charge_minor("jpy") == 50
        assert minimum_charge_minor("kes") == 100
        assert minimum_charge_minor("kwd") == 1000


class TestFormatMoney:
    @pytest.mark.parametrize(
        ("amount", "code", "text"),
        [
            (125_000, "eur", "€1,250.00"),
            (5000, "jpy", "¥5,000"),
            (12_340, "kwd", "KWD12.340"),
            (199, "usd", "$1.99"),
        ],
    )
    def test_formats_in_major_units(self, amount: int, code: str, text: str) -> None:
        assert format_money(amount, code) == text


class TestAllocate:
    @given(
        total=st.integers(min_value=0, max_value=10**12),
        weights=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=30),
    )
    def test_parts_sum_to_the_total_and_stay_within_one_unit_of_fair(
        self, total: int, weights: list[int]
    ) -> None:
        parts = allocate(total, weights)

        assert len(parts) == len(weights)
        if sum(weights) == 0:
            assert parts == [0] * len(weights)
            return
        assert sum(parts) == total
        for part, weight in zip(parts, weights, strict=True):
            exact_floor = total * weight // sum(weights)
            assert exact_floor <= part <= exact_floor + 1

    def test_ties_go_to_the_earlier_index(self) -> None:
        assert allocate(100, [1, 1, 1]) == [34, 33, 33]

    def test_refuses_negative_input(self) -> None:
        with pytest.raises(ValueError):
            allocate(-1, [1])
        with pytest.raises(ValueError):
            allocate(1, [-1])


class TestRatio:
    @given(
        amount=st.integers(min_value=0, max_value=10**12), ratio=st.integers(min_value=0, max_value=50_000)
    )
    def test_ratio_rounds_down_never_over_promises(self, amount: int, ratio: int) -> None:
        matched = apply_ratio_bps(amount, ratio)

        assert matched * 10_000 <= amount * ratio < (matched + 1) * 10_000
