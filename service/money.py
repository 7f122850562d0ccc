"""Money as integer minor units plus a lowercase ISO currency, following Stripe's rules.

Stripe's exponents differ from ISO 4217 in places (ISK and UGX), so the table here, not
Babel, decides how many minor units a currency has. Babel only formats at the edge.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import format_currency

# https://docs.stripe.com/currencies - presentment currencies Stripe accepts for card payments.
STRIPE_CURRENCIES = frozenset(
    [
        "usd",
        "aed",
        "afn",
        "all",
        "amd",
        "ang",
        "aoa",
        "ars",
        "aud",
        "awg",
        "azn",
        "bam",
        "bbd",
        "bdt",
        "bgn",
        "bhd",
        "bif",
        "bmd",
        "bnd",
        "bob",
        "brl",
        "bsd",
        "bwp",
        "byn",
        "bzd",
        "cad",
        "cdf",
        "chf",
        "clp",
        "cny",
        "cop",
        "crc",
        "cve",
        "czk",
        "djf",
        "dkk",
        "dop",
        "dzd",
        "egp",
        "etb",
        "eur",
        "fjd",
        "fkp",
        "gbp",
        "gel",
        "gip",
        "gmd",
        "gnf",
        "gtq",
        "gyd",
        "hkd",
        "hnl",
        "htg",
        "huf",
        "idr",
        "ils",
        "inr",
        "isk",
        "jmd",
        "jod",
        "jpy",
        "kes",
        "kgs",
        "khr",
        "kmf",
        "krw",
        "kwd",
        "kyd",
        "kzt",
        "lak",
        "lbp",
        "lkr",
        "lrd",
        "lsl",
        "mad",
        "mdl",
        "mga",
        "mkd",
        "mmk",
        "mnt",
        "mop",
        "mur",
        "mvr",
        "mwk",
        "mxn",
        "myr",
        "mzn",
        "nad",
        "ngn",
        "nio",
        "nok",
        "npr",
        "nzd",
        "omr",
        "pab",
        "pen",
        "pgk",
        "php",
        "pkr",
        "pln",
        "pyg",
        "qar",
        "ron",
        "rsd",
        "rub",
        "rwf",
        "sar",
        "sbd",
        "scr",
        "sek",
        "sgd",
        "shp",
        "sle",
        "sos",
        "srd",
        "std",
        "szl",
        "thb",
        "tjs",
        "tnd",
        "top",
        "try",
        "ttd",
        "twd",
        "tzs",
        "uah",
        "ugx",
        "uyu",
        "uzs",
        "vnd",
        "vuv",
        "wst",
        "xaf",
        "xcd",
        "xof",
        "xpf",
        "yer",
        "zar",
        "zmw",
    ]
)

ZERO_DECIMAL = frozenset(
    [
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    ]
)
THREE_DECIMAL = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])

# Stripe quirks: ISK is two-decimal on the API but charged in whole krónur, and three-decimal
# currencies must be rounded to the nearest ten minor units.
_MINOR_STEP = {"isk": 100, **{c: 10 for c in THREE_DECIMAL}}


class MoneyError(ValueError):
    """An amount or currency that Stripe would refuse."""


@dataclass(frozen=True)
class Currency:
    code: str
    exponent: int
    minor_step: int

    @property
    def minor_per_major(self) -> int:
        return int(10**self.exponent)


def currency(code: str) -> Currency:
    normalised = code.strip().lower()
    if normalised not in STRIPE_CURRENCIES:
        raise MoneyError(f"{code!r} is not a currency Stripe supports")
    if normalised in ZERO_DECIMAL:
        exponent = 0
    elif normalised in THREE_DECIMAL:
        exponent = 3
    else:
        exponent = 2
    return Currency(code=normalised, exponent=exponent, minor_step=_MINOR_STEP.get(normalised, 1))


def check_amount(amount_minor: int, currency_code: str) -> None:
    """Raise MoneyError unless amount_minor is a positive amount Stripe can charge."""
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise MoneyError("amounts are whole numbers of minor units")
    if amount_minor <= 0:
        raise MoneyError("amounts must be positive")
    cur = currency(currency_code)
    if amount_minor % cur.minor_step:
        raise MoneyError(f"{cur.code.upper()} amounts must be multiples of {cur.minor_step} minor units")


def to_major(amount_minor: int, currency_code: str) -> Decimal:
    cur = currency(currency_code)
    return Decimal(amount_minor).scaleb(-cur.exponent)


@functools.lru_cache(maxsize=8192)
def format_money(amount_minor: int, currency_code: str, *, locale: str = "en") -> str:
    """Human text such as '€1,250.00' or '¥5,000'; for display only."""
    cur = currency(currency_code)
    return format_currency(to_major(amount_minor, cur.code), cur.code.upper(), locale=locale)


def allocate(total_minor: int, weights: list[int]) -> list[int]:
    """Split total_minor in proportion to integer weights; the parts always sum to the total.

    Largest remainder: everyone gets the floor of their share, then the leftover units go
    to the largest remainders (ties to the earlier index), so results are deterministic.
    """
    if total_minor < 0:
        raise ValueError("cannot allocate a negative total")
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    weight_sum = sum(weights)
    if weight_sum == 0:
        return [0] * len(weights)
    floors = [total_minor * w // weight_sum for w in weights]
    remainders = [total_minor * w % weight_sum for w in weights]
    leftover = total_minor - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:leftover]:
        floors[i] += 1
    return floors


def apply_ratio_bps(amount_minor: int, ratio_bps: int) -> int:
    """amount * ratio, rounded down: a match never promises a fraction it cannot pay."""
    return amount_minor * ratio_bps // 10_000


# Stripe's minimum charge per currency (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts);
# other currencies fall back to one major unit, which is above Stripe's floor for them.
_STRIPE_MINIMUM_MINOR = {
    "usd": 50,
    "aed": 200,
    "aud": 50,
    "bgn": 100,
    "brl": 50,
    "cad": 50,
    "chf": 50,
    "czk": 1500,
    "dkk": 250,
    "eur": 50,
    "gbp": 30,
    "hkd": 400,
    "huf": 17500,
    "inr": 50,
    "jpy": 50,
    "mxn": 1000,
    "myr": 200,
    "nok": 300,
    "nzd": 50,
    "pln": 200,
    "ron": 200,
    "sek": 300,
    "sgd": 50,
    "thb": 1000,
}


def minimum_charge_minor(currency_code: str) -> int:
    cur = currency(currency_code)
    return _STRIPE_MINIMUM_MINOR.get(cur.code, max(cur.minor_per_major, cur.minor_step))


# Stripe's largest single charge (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts):
# the amount field takes at most eight digits, twelve for IDR. A larger gift would only fail at
# Stripe, after the donor was sent there, so it is refused with a clear message before that.
STRIPE_MAXIMUM_MINOR_DEFAULT = 99_999_999
_STRIPE_MAXIMUM_MINOR = {
    "idr": 999_999_999_999,
}


def maximum_charge_minor(currency_code: str) -> int:
    cur = currency(currency_code)
    return _STRIPE_MAXIMUM_MINOR.get(cur.code, STRIPE_MAXIMUM_MINOR_DEFAULT)
