"""The receipt and the yearly statement as PDF documents (fpdf2).

Pure: takes what to print, returns bytes. The fonts are DejaVu Sans, embedded (subset) in every
document so "€", "£" and Dutch diacritics print the same in every reader; they come from
`service.fonts` (the system's fonts-dejavu-core, else the bundled subset), as the Open Graph
card's do (campaigns.giving.og_card). The
document's dates are the receipt's own, so the same receipt renders to the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from babel import Locale
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from campaigns.receipts.tax import Issuer, payment_method_label, tax_id_label, tax_text
from service import fonts
from service.i18n import babel_locale, format_date, format_money, translations

_FAMILY = "DejaVu"
_INK = (17, 24, 39)
_MUTED = (75, 85, 99)
_RULE = (209, 213, 219)


@dataclass(frozen=True)
class ReceiptDocument:
    number: str
    corrected: bool
    issuer: Issuer
    donor_name: str | None
    donor_email: str
    gift_date: date
    issued_at: datetime
    amount_minor: int
    currency: str
    payment_method: str | None
    language: str
    original_number: str | None = None
    original_amount_minor: int | None = None
    reason: str | None = None
    """For a correction: `refund` or `dispute`."""
    fee_cover_minor: int = 0
    """Of amount_minor, what the donor added to cover processing fees."""


@dataclass(frozen=True)
class StatementLine:
    gift_date: date
    receipt_numbers: tuple[str, ...]
    given_minor: int
    returned_minor: int
    currency: str

    @property
    def net_minor(self) -> int:
        return self.given_minor - self.returned_minor


@dataclass(frozen=True)
class StatementDocument:
    year: int
    issuer: Issuer
    donor_email: str
    donor_name: str | None
    lines: Sequence[StatementLine]
    issued_at: datetime
    language: str


class _Pdf(FPDF):
    def __init__(self, *, title: str, issued_at: datetime, language: str) -> None:
        super().__init__(format="A4")
        self.set_margins(20, 20, 20)
        self.set_auto_page_break(auto=True, margin=20)
        self.add_font(_FAMILY, "", str(fonts.dejavu_dir() / fonts.REGULAR))
        self.add_font(_FAMILY, "B", str(fonts.dejavu_dir() / fonts.BOLD))
        self.set_title(title)
        self.set_lang(language)
        self.set_creator("Goodloop")
        self.set_creation_date(issued_at.astimezone(UTC))
        self.add_page()

    def heading(self, text: str) -> None:
        self.set_font(_FAMILY, "B", 18)
        self.set_text_color(*_INK)
        self.multi_cell(0, 9, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)

    def subheading(self, text: str) -> None:
        self.set_font(_FAMILY, "B", 11)
        self.set_text_color(*_INK)
        self.multi_cell(0, 6, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def para(self, text: str, *, muted: bool = False, size: float = 10) -> None:
        self.set_font(_FAMILY, "", size)
        self.set_text_color(*(_MUTED if muted else _INK))
        # Left-aligned: justified lines open gaps between words that read badly in a narrow text.
        self.multi_cell(0, 5.5, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def field(self, label: str, value: str) -> None:
        self.set_font(_FAMILY, "", 10)
        self.set_text_color(*_MUTED)
        self.cell(55, 6.5, label)
        self.set_text_color(*_INK)
        self.set_font(_FAMILY, "B", 10)
        self.multi_cell(0, 6.5, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def rule(self) -> None:
        self.ln(3)
        self.set_draw_color(*_RULE)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(4)

    def issuer_block(self, issuer: Issuer, language: str) -> None:
        _ = translations(language).gettext
        self.subheading(issuer.legal_name)
        self.para(_("Registration number: %(number)s") % {"number": issuer.registration_number}, muted=True)
        label = tax_id_label(issuer.scheme, language)
        if issuer.tax_id:
            self.para(f"{label or _('Tax identifier')}: {issuer.tax_id}", muted=True)
        self.para(_("Country: %(country)s") % {"country": country_name(issuer.country, language)}, muted=True)


def issue_date(issued_at: datetime, issuer: Issuer) -> date:
    """The day of issue as the issuer reads it: in its time zone, like the receipt number's year."""
    return issued_at.astimezone(ZoneInfo(issuer.time_zone)).date()


def country_name(code: str, language: str) -> str:
    """`NL` as the reader says it ("Nederland", "Netherlands"); the code when Babel has no name."""
    name = Locale.parse(babel_locale(language)).territories.get(code)
    return name if isinstance(name, str) else code


def receipt_pdf(doc: ReceiptDocument) -> bytes:
    _ = translations(doc.language).gettext
    lang = doc.language
    title = _("Corrected donation receipt") if doc.corrected else _("Donation receipt")
    pdf = _Pdf(title=f"{title} {doc.number}", issued_at=doc.issued_at, language=lang)
    pdf.heading(title)
    pdf.field(_("Receipt number"), doc.number)
    pdf.field(_("Date of issue"), format_date(issue_date(doc.issued_at, doc.issuer), lang))
    pdf.rule()
    pdf.issuer_block(doc.issuer, lang)
    pdf.rule()
    pdf.field(_("Donor"), doc.donor_name or doc.donor_email)
    if doc.donor_name:
        pdf.field(_("Email"), doc.donor_email)
    pdf.field(_("Date of gift"), format_date(doc.gift_date, lang))
    method = payment_method_label(doc.payment_method, lang)
    if method:
        pdf.field(_("Payment method"), method)
    if doc.corrected and doc.original_number and doc.original_amount_minor is not None:
        pdf.field(_("Replaces receipt"), doc.original_number)
        pdf.field(_("Amount on that receipt"), format_money(doc.original_amount_minor, doc.currency, lang))
        pdf.field(_("Corrected amount"), format_money(doc.amount_minor, doc.currency, lang))
    else:
        pdf.field(_("Amount"), format_money(doc.amount_minor, doc.currency, lang))
        if doc.fee_cover_minor:
            pdf.para(fee_cover_text(doc), muted=True, size=9)
    pdf.rule()
    if doc.corrected:
        pdf.para(correction_text(doc))
        pdf.ln(2)
    pdf.para(tax_text(doc.issuer, lang))
    pdf.ln(4)
    pdf.para(_("Please keep this receipt for your tax records."), muted=True, size=9)
    return bytes(pdf.output())


def fee_cover_text(doc: ReceiptDocument) -> str:
    _ = translations(doc.language).gettext
    amount = format_money(doc.fee_cover_minor, doc.currency, doc.language)
    return _("Including %(amount)s you added to cover the processing fees.") % {"amount": amount}


def correction_text(doc: ReceiptDocument) -> str:
    _ = translations(doc.language).gettext
    values = {
        "number": doc.original_number or "",
        "amount": format_money(doc.amount_minor, doc.currency, doc.language),
    }
    if doc.reason == "dispute":
        return (
            _(
                "This corrected receipt replaces receipt %(number)s: the payment was reversed after a "
                "dispute with your bank. Your gift now counts as %(amount)s."
            )
            % values
        )
    return (
        _(
            "This corrected receipt replaces receipt %(number)s after a refund. "
            "Your gift now counts as %(amount)s."
        )
        % values
    )


def statement_pdf(doc: StatementDocument) -> bytes:
    _ = translations(doc.language).gettext
    lang = doc.language
    title = _("Yearly statement %(year)s") % {"year": doc.year}
    pdf = _Pdf(title=title, issued_at=doc.issued_at, language=lang)
    pdf.heading(title)
    pdf.issuer_block(doc.issuer, lang)
    pdf.rule()
    pdf.field(_("Donor"), doc.donor_name or doc.donor_email)
    if doc.donor_name:
        pdf.field(_("Email"), doc.donor_email)
    pdf.field(_("Date of issue"), format_date(issue_date(doc.issued_at, doc.issuer), lang))
    pdf.rule()
    if not doc.lines:
        pdf.para(_("No gifts were received from you in %(year)s.") % {"year": doc.year})
    else:
        _statement_table(pdf, doc)
    pdf.rule()
    pdf.para(tax_text(doc.issuer, lang))
    return bytes(pdf.output())


def _statement_table(pdf: _Pdf, doc: StatementDocument) -> None:
    _ = translations(doc.language).gettext
    lang = doc.language
    widths = (32, 56, 28, 28, 26)
    headers = (_("Date"), _("Receipt numbers"), _("Given"), _("Refunded"), _("Net"))
    pdf.set_font(_FAMILY, "B", 9)
    pdf.set_text_color(*_INK)
    for width, header in zip(widths, headers, strict=True):
        pdf.cell(width, 7, header, border="B", align="L" if width > 30 else "R")
    pdf.ln(7)
    pdf.set_font(_FAMILY, "", 9)
    totals: dict[str, int] = {}
    for line in doc.lines:
        cells = (
            format_date(line.gift_date, lang, format="medium"),
            ", ".join(line.receipt_numbers) or "-",
            format_money(line.given_minor, line.currency, lang),
            format_money(line.returned_minor, line.currency, lang),
            format_money(line.net_minor, line.currency, lang),
        )
        for width, text in zip(widths, cells, strict=True):
            pdf.cell(width, 6.5, text, align="L" if width > 30 else "R")
        pdf.ln(6.5)
        totals[line.currency] = totals.get(line.currency, 0) + line.net_minor
    pdf.ln(2)
    for currency, total in sorted(totals.items()):
        pdf.field(_("Total given in %(year)s") % {"year": doc.year}, format_money(total, currency, lang))
