"""Receipts and the Open Graph card draw with DejaVu Sans also where the system has none."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]  # fpdf2 needs it; no stubs
from fpdf import FPDF

from service import fonts

# What a Dutch receipt and its donors' names need beyond ASCII.
TEXT = "Ontvangstbewijs € 1.234,56 — één café, Łódź, Ĳsselmeer, £ 5 • 2026-000123"


def test_without_system_fonts_the_bundled_ones_are_used(tmp_path: Path) -> None:
    assert fonts.font_dir(system=tmp_path) == fonts.BUNDLED_DIR
    assert fonts.font_dir(system=fonts.BUNDLED_DIR) == fonts.BUNDLED_DIR


def test_the_bundled_fonts_print_what_a_receipt_needs() -> None:
    pdf = FPDF()
    pdf.add_font("DejaVu", "", str(fonts.BUNDLED_DIR / fonts.REGULAR))
    pdf.add_font("DejaVu", "B", str(fonts.BUNDLED_DIR / fonts.BOLD))
    pdf.add_page()
    for style in ("", "B"):
        pdf.set_font("DejaVu", style, 12)
        pdf.cell(text=TEXT, new_x="LMARGIN", new_y="NEXT")

    text = pypdf.PdfReader(io.BytesIO(bytes(pdf.output()))).pages[0].extract_text()

    assert text.count("€ 1.234,56") == 2
    assert "Łódź" in text
    assert "één café" in text


def test_the_bundled_fonts_map_every_character_of_it() -> None:
    for face in (fonts.REGULAR, fonts.BOLD):
        mapped = TTFont(str(fonts.BUNDLED_DIR / face)).getBestCmap()
        assert sorted(ch for ch in set(TEXT) if ord(ch) not in mapped) == [], face
