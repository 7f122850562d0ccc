"""What a donor adds when they choose to cover the processing fee: integer math, rounded up.

The estimate is Stripe's standard card pricing, 2.9% plus a fixed fee per currency (for
currencies not listed, the percentage alone). It is grossed up so that after the fee is taken
from the whole charge, the nonprofit still receives the full gift:

    total = ceil((amount + fixed) / (1 - rate)),  cover = total - amount

with the rate in basis points, so no float ever touches an amount. It is an estimate: the
real fee depends on the card and the country, and is read from the balance transaction later.
"""

from __future__ import annotations

from service.money import currency

RATE_BPS = 290
_FIXED_MINOR = {
    "usd": 30,
    "eur": 25,
    "gbp": 20,
    "cad": 30,
    "aud": 30,
    "nzd": 30,
    "chf": 30,
    "sgd": 50,
    "hkd": 235,
    "sek": 180,
    "nok": 200,
    "dkk": 180,
    "pln": 100,
    "czk": 600,
    "mxn": 300,
    "brl": 39,
    "jpy": 0,
}


def fee_cover_minor(amount_minor: int, currency_code: str) -> int:
    cur = currency(currency_code)
    fixed = _FIXED_MINOR.get(cur.code, 0)
    numerator = (amount_minor + fixed) * 10_000
    denominator = 10_000 - RATE_BPS
    total = -(-numerator // denominator)  # ceiling division on integers
    cover = total - amount_minor
    # Three-decimal currencies (and ISK) charge in steps; round the cover up to a whole step.
    step = cur.minor_step
    return -(-cover // step) * step
