"""Amounts as people type them in a form, and back. Pure, no I/O; every page with an amount
field uses these (the donate form, the dashboard's campaign form).

People type amounts in major units ("25.50" EUR, "5000" JPY); the API takes integer minor
units. The conversion goes through Decimal so no float ever rounds a donation amount.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from service.money import Currency, to_major

_AMOUNT = re.compile(r"^[0-9]{1,16}(?:\.[0-9]{1,16})?$")


class AmountError(ValueError):
    """An amount a person typed that is not an exact amount of the currency."""


def to_minor(text: str, cur: Currency) -> int:
    """'25.50' EUR -> 2550, '5000' JPY -> 5000, '1.250' KWD -> 1250; refuses what does not fit."""
    cleaned = text.strip()
    if not _AMOUNT.match(cleaned):
        raise AmountError("enter an amount such as 25 or 25.50 (digits and one decimal point)")
    try:
        minor = Decimal(cleaned).scaleb(cur.exponent)
    except InvalidOperation as e:
        raise AmountError("enter an amount such as 25 or 25.50") from e
    if minor != minor.to_integral_value():
        raise AmountError(f"{cur.code.upper()} {_decimals_phrase(cur.exponent)}; {cleaned} has more")
    return int(minor)


def _decimals_phrase(exponent: int) -> str:
    if exponent == 0:
        return "has no decimal places"
    return f"has {exponent} decimal place{'s' if exponent != 1 else ''}"


def to_major_text(amount_minor: int | None, currency_code: str) -> str:
    if amount_minor is None:
        return ""
    return format(to_major(amount_minor, currency_code), "f")
