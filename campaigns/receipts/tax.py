"""Tax identifiers, their formats, and the text a receipt carries for the issuer's country.

Pure: no database. The texts are English source strings translated through the `receipts`
catalog (service/locale/nl/LC_MESSAGES/receipts.po), so a Dutch donor of a US charity reads the
501(c)(3) text in Dutch.

UK Gift Aid is deliberately not mentioned: a charity may claim it only with a Gift Aid
declaration from the donor (a UK taxpayer), which Goodloop does not collect; a receipt that
promised it would be wrong.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from campaigns.receipts.models import TaxScheme
from service.i18n import translations

SCHEME_BY_COUNTRY: Mapping[str, TaxScheme] = {
    "NL": TaxScheme.ANBI,
    "US": TaxScheme.US_501C3,
    "GB": TaxScheme.UK_CHARITY,
}

DEFAULT_TIME_ZONE = "UTC"
TIME_ZONE_BY_COUNTRY: Mapping[str, str] = {
    "NL": "Europe/Amsterdam",
    "BE": "Europe/Brussels",
    "DE": "Europe/Berlin",
    "FR": "Europe/Paris",
    "GB": "Europe/London",
    "IE": "Europe/Dublin",
    "US": "America/New_York",
    "CA": "America/Toronto",
    "AU": "Australia/Sydney",
}
"""A receipt's date and year are read in the issuer's time zone (a gift at 00:30 on 1 January
in Amsterdam belongs to the new year there): this is the zone a new tax profile starts with."""

_EIN = re.compile(r"^(\d{2})-?(\d{7})$")
_UK_CHARITY = re.compile(r"^(\d{6,8}|SC\d{6}|NIC\d{6})$")
_RSIN = re.compile(r"^\d{9}$")


class InvalidTaxId(ValueError):
    """The identifier does not have the country's format; the message is a sentence."""


def rsin_is_valid(value: str) -> bool:
    """9 digits passing the elfproef (weights 9..2 and -1, sum divisible by 11, not all zero)."""
    if not _RSIN.match(value) or value == "000000000":
        return False
    digits = [int(c) for c in value]
    total = sum(d * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) - digits[8]
    return total % 11 == 0


def normalise_tax_id(country: str, value: str | None) -> str | None:
    """The identifier in its canonical form (EIN as NN-NNNNNNN), None when empty.

    Raises InvalidTaxId when it does not have the country's format. Other countries' numbers
    are kept as given: they appear on the receipt, but the neutral text makes no claim.
    """
    raw = re.sub(r"[\s.]", "", value or "").upper()
    if not raw:
        return None
    if country == "NL":
        if not rsin_is_valid(raw):
            raise InvalidTaxId("Enter the RSIN: 9 digits that pass the eleven test (elfproef).")
        return raw
    if country == "US":
        found = _EIN.match(raw)
        if found is None:
            raise InvalidTaxId("Enter the EIN as NN-NNNNNNN (9 digits).")
        return f"{found.group(1)}-{found.group(2)}"
    if country == "GB":
        if not _UK_CHARITY.match(raw):
            raise InvalidTaxId(
                "Enter the registered charity number: 6 to 8 digits "
                "(SC or NIC and 6 digits in Scotland or Northern Ireland)."
            )
        return raw
    if len(raw) > 20:
        raise InvalidTaxId("A tax identifier has at most 20 characters.")
    return raw


def time_zone_is_known(name: str) -> bool:
    if name not in _zones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


_ZONES: set[str] = set()


def _zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
        _ZONES.add("UTC")
    return _ZONES


def default_time_zone(country: str) -> str:
    return TIME_ZONE_BY_COUNTRY.get(country, DEFAULT_TIME_ZONE)


def scheme_for(country: str, tax_id: str | None) -> TaxScheme:
    """The country's scheme once its identifier is known; the neutral text otherwise."""
    scheme = SCHEME_BY_COUNTRY.get(country)
    return scheme if scheme is not None and tax_id else TaxScheme.NEUTRAL


@dataclass(frozen=True)
class Issuer:
    """Who issues a receipt, as printed on it (kept on the receipt row as a snapshot)."""

    legal_name: str
    country: str
    registration_number: str
    tax_id: str | None
    time_zone: str

    @property
    def scheme(self) -> TaxScheme:
        return scheme_for(self.country, self.tax_id)

    def snapshot(self) -> dict[str, Any]:
        return {
            "legal_name": self.legal_name,
            "country": self.country,
            "registration_number": self.registration_number,
            "tax_id": self.tax_id,
            "time_zone": self.time_zone,
            "scheme": self.scheme.value,
        }

    @classmethod
    def from_snapshot(cls, data: Mapping[str, Any]) -> Issuer:
        return cls(
            legal_name=str(data["legal_name"]),
            country=str(data["country"]),
            registration_number=str(data["registration_number"]),
            tax_id=data.get("tax_id") if isinstance(data.get("tax_id"), str) else None,
            time_zone=str(data.get("time_zone") or DEFAULT_TIME_ZONE),
        )


def tax_id_label(scheme: TaxScheme, language: str) -> str | None:
    """What the identifier is called on the receipt ("RSIN", "EIN", ...)."""
    _ = translations(language).gettext
    labels = {
        TaxScheme.ANBI: "RSIN",
        TaxScheme.US_501C3: "EIN",
        TaxScheme.UK_CHARITY: _("Registered charity number"),
    }
    return labels.get(scheme)


def tax_text(issuer: Issuer, language: str) -> str:
    """The country's sentence about the gift's tax treatment, in `language`."""
    _ = translations(language).gettext
    name, tax_id = issuer.legal_name, issuer.tax_id or ""
    scheme = issuer.scheme
    if scheme is TaxScheme.ANBI:
        return _(
            "%(name)s is registered by the Dutch Tax and Customs Administration as a public benefit "
            "organisation (ANBI), RSIN %(tax_id)s. Gifts to an ANBI are deductible from Dutch income tax "
            "or corporate income tax under the conditions the law sets."
        ) % {"name": name, "tax_id": tax_id}
    if scheme is TaxScheme.US_501C3:
        return _(
            "%(name)s is a tax-exempt organization under Section 501(c)(3) of the Internal Revenue Code, "
            "EIN %(tax_id)s. No goods or services were provided in exchange for this contribution."
        ) % {"name": name, "tax_id": tax_id}
    if scheme is TaxScheme.UK_CHARITY:
        return _(
            "%(name)s is a registered charity, number %(tax_id)s. No goods or services were provided "
            "in exchange for this donation."
        ) % {"name": name, "tax_id": tax_id}
    return _(
        "This receipt confirms your donation to %(name)s. Whether it is tax-deductible depends on the "
        "rules of the country where you pay tax."
    ) % {"name": name}


def payment_method_label(method: str | None, language: str) -> str | None:
    """Stripe's payment method type in words (None when the charge has not said)."""
    if not method:
        return None
    _ = translations(language).gettext
    labels = {
        "card": _("Card"),
        "ideal": "iDEAL",
        "sepa_debit": _("SEPA Direct Debit"),
        "bancontact": "Bancontact",
        "sofort": "Sofort",
        "giropay": "giropay",
        "eps": "EPS",
        "p24": "Przelewy24",
        "link": "Link",
        "paypal": "PayPal",
        "us_bank_account": _("US bank account"),
        "bacs_debit": _("Bacs Direct Debit"),
        "apple_pay": "Apple Pay",
        "google_pay": "Google Pay",
    }
    return labels.get(method, method.replace("_", " "))
