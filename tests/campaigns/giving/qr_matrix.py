"""Reads back the modules of a QR code segno drew as SVG, to compare with the matrix segno
computes for the text it should encode (no QR decoder needed)."""

from __future__ import annotations

import re
from collections.abc import Iterable

_DARK_PATH = re.compile(r'<path[^>]*stroke="#000"[^>]*\sd="([^"]+)"')
_STEP = re.compile(r"([MmHh])\s*(-?\d+(?:\.\d+)?)(?:\s+(-?\d+(?:\.\d+)?))?")


def dark_modules(svg: str, *, border: int) -> set[tuple[int, int]]:
    """(row, column) of every dark module: segno draws each row as horizontal strokes through
    the middle of the row (y = row + 0.5), moving with M/m and drawing with h."""
    match = _DARK_PATH.search(svg)
    assert match is not None, "no dark path in the SVG"
    x = y = 0.0
    dark: set[tuple[int, int]] = set()
    for command, first, second in _STEP.findall(match.group(1)):
        if command == "M":
            x, y = float(first), float(second)
        elif command == "m":
            x, y = x + float(first), y + float(second)
        else:
            length = float(first)
            start = x if length > 0 else x + length
            dark.update((int(y - 0.5) - border, int(start) + i - border) for i in range(int(abs(length))))
            x += length
    return dark


def matrix_modules(matrix: Iterable[Iterable[int]]) -> set[tuple[int, int]]:
    """(row, column) of every dark module of segno's matrix (a dark module's value is odd)."""
    return {(r, c) for r, row in enumerate(matrix) for c, value in enumerate(row) if value & 1}
