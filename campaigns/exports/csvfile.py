"""CSV that opens cleanly in Excel, LibreOffice, Numbers and Google Sheets.

- UTF-8 with a byte-order mark: without it Excel reads the file in the machine's legacy code
  page and mangles every non-ASCII name.
- CRLF line ends and the `csv` module's quoting (RFC 4180), so commas, quotes and newlines
  inside a cell stay inside it.
- Dates in ISO 8601, UTC; amounts in major units as plain decimal strings made from integer
  minor units with the currency's own exponent (never a float), next to a currency column.
- Text that a spreadsheet would run as a formula gets a leading apostrophe (CSV injection:
  a donor named `=HYPERLINK(...)` must not become a live link in an admin's spreadsheet).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from service.money import to_major

BOM = "\ufeff"
LINE_END = "\r\n"
# OWASP's list: what starts a formula (=, +, -, @) and what some tools strip before looking (tab, CR).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Amount:
    """Money on its way into a cell: integer minor units plus the currency that scales them."""

    minor: int
    currency: str


Cell = str | int | bool | datetime | Amount | None
"""What a column yields. A `str` is untrusted text and is defused; the other kinds are ours."""


def text_cell(value: str) -> str:
    if value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def amount_cell(amount: Amount) -> str:
    # to_major scales by the Stripe exponent (JPY 0, KWD 3); 'f' keeps Decimal out of E-notation.
    return f"{to_major(amount.minor, amount.currency):f}"


def date_cell(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def format_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return date_cell(value)
    if isinstance(value, Amount):
        return amount_cell(value)
    return text_cell(value)


class CsvEncoder:
    """Turns rows into UTF-8 bytes chunk by chunk, so a large export never sits in memory."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator=LINE_END, quoting=csv.QUOTE_MINIMAL)
        self._started = False

    def encode(self, rows: Iterable[Sequence[Cell]]) -> bytes:
        for row in rows:
            self._writer.writerow([format_cell(cell) for cell in row])
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        if not self._started:
            self._started = True
            text = BOM + text
        return text.encode("utf-8")
