"""Amounts as people type them in a form, and back. Pure, no I/O; every page with an amount
field uses these (the donate form, the dashboard's campaign form, the fundraiser form, the
donor portal).

People type amounts in major units in their language's way: "12,50", "1.250,50" or "12,-" in
Dutch, "12.50" or "1,250.50" in English ("5000" JPY either way); the API takes integer minor
units. The conversion goes through Decimal so no float ever rounds a donation amount.

`to_minor(text, currency, language)` refuses what does not fit with an AmountError whose
message is a sentence in that language (for "en", a Message from service.i18n.N_ that a page
may still translate). The separator of the other language is refused, never guessed: "12.50" on
a Dutch page could be twelve and a half or, as a thousands separator, a typo, and a donation
must not come out a thousand times off. `to_major_text(minor, currency, language)` writes an
amount back for a form field (no grouping) so that `to_minor` reads it again unchanged.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from service.i18n import N_, normalise, translate
from service.money import Currency, to_major

# (decimal separator, thousands separator) per language; spaces (also no-break and narrow
# no-break, which Babel writes) group thousands in both.
_SEPARATORS = {"nl": (",", "."), "en": (".", ",")}
_SPACES = " \u00a0\u202f"
_MAX_DIGITS = 16


def _pattern(decimal: str, group: str) -> re.Pattern[str]:
    groupers = re.escape(group + _SPACES)
    whole = rf"[0-9]+|[0-9]{{1,3}}(?P<g>[{groupers}])[0-9]{{3}}(?:(?P=g)[0-9]{{3}})*"
    return re.compile(rf"^(?P<whole>{whole})(?:{re.escape(decimal)}(?P<fraction>[0-9]+|-))?$")


_PATTERNS = {language: _pattern(*separators) for language, separators in _SEPARATORS.items()}


class AmountError(ValueError):
    """An amount a person typed that is not an exact amount of the currency."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _language(language: str | None) -> str:
    return normalise(language) or "en"


def _refuse(message: str, language: str) -> AmountError:
    # English stays a Message (a page may translate it later); other languages are finished here.
    return AmountError(message if language == "en" else translate(message, language))


def _example(language: str) -> tuple[str, str]:
    decimal, _ = _SEPARATORS[language]
    return "25", f"25{decimal}50"


def to_minor(text: str, cur: Currency, language: str | None = "en") -> int:
    """'25.50' EUR -> 2550 ('25,50' in nl), '5000' JPY -> 5000, '1.250' KWD -> 1250 (en);
    refuses what does not fit with a sentence in `language`."""
    lang = _language(language)
    cleaned = text.strip().strip(_SPACES)
    match = _PATTERNS[lang].match(cleaned)
    if match is None:
        other = "en" if lang == "nl" else "nl"
        if cleaned and _PATTERNS[other].match(cleaned) and _wrong_separator(cleaned, lang):
            decimal, _ = _SEPARATORS[lang]
            if decimal == ",":
                raise _refuse(N_("use a comma before the cents, like %(example)s", example="12,50"), lang)
            raise _refuse(N_("use a point before the cents, like %(example)s", example="12.50"), lang)
        whole, decimal_example = _example(lang)
        if lang == "en":
            raise _refuse(N_("enter an amount such as 25 or 25.50 (digits and one decimal point)"), lang)
        raise _refuse(
            N_("enter an amount such as %(whole)s or %(decimal)s", whole=whole, decimal=decimal_example), lang
        )
    whole_digits = re.sub(r"[^0-9]", "", match["whole"])
    fraction = match["fraction"] or ""
    if fraction == "-":
        fraction = ""
    if len(whole_digits) > _MAX_DIGITS or len(fraction) > _MAX_DIGITS:
        raise _refuse(N_("this amount is too large"), lang)
    try:
        minor = Decimal(f"{whole_digits}.{fraction or '0'}").scaleb(cur.exponent)
    except InvalidOperation as e:  # pragma: no cover (the pattern admits only digits)
        raise _refuse(N_("this amount is too large"), lang) from e
    if minor != minor.to_integral_value():
        raise _refuse(_too_many_decimals(cur, cleaned), lang)
    return int(minor)


def _wrong_separator(cleaned: str, language: str) -> bool:
    """Whether `cleaned` uses the other language's decimal separator (so saying which one is
    expected helps): it has the other's decimal mark and none of ours."""
    ours, _ = _SEPARATORS[language]
    theirs = "." if ours == "," else ","
    return theirs in cleaned and ours not in cleaned


def _too_many_decimals(cur: Currency, typed: str) -> str:
    code = cur.code.upper()
    if cur.exponent == 0:
        return N_("%(currency)s has no decimal places; %(amount)s has more", currency=code, amount=typed)
    if cur.exponent == 1:
        return N_("%(currency)s has 1 decimal place; %(amount)s has more", currency=code, amount=typed)
    return N_(
        "%(currency)s has %(count)s decimal places; %(amount)s has more",
        currency=code,
        count=cur.exponent,
        amount=typed,
    )


def to_major_text(amount_minor: int | None, currency_code: str, language: str | None = "en") -> str:
    """2550 EUR -> '25.50' ('25,50' in nl); '' for None. Written for a form field: no grouping."""
    if amount_minor is None:
        return ""
    text = format(to_major(amount_minor, currency_code), "f")
    decimal, _ = _SEPARATORS[_language(language)]
    return text.replace(".", decimal)
