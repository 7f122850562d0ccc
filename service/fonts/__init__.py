"""DejaVu Sans for what the server draws itself: receipt PDFs and the Open Graph card.

The system's full DejaVu Sans (Debian's fonts-dejavu-core) is used where it is installed: it
covers every script a donor's name may be written in. Everywhere else (a fresh machine with
only Python, a slim container) the copies bundled here are used: DejaVu Sans and DejaVu Sans
Bold cut down with fontTools' pyftsubset to Latin (with Extended-A and -B, combining marks and
Latin Extended Additional), general punctuation, currency signs and arrows, so "€", "£", "ĳ"
and Dutch, German, French or Polish names still print. Licence: LICENSE.txt beside them.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

SYSTEM_DIR = Path("/usr/share/fonts/truetype/dejavu")
BUNDLED_DIR = Path(__file__).resolve().parent
REGULAR = "DejaVuSans.ttf"
BOLD = "DejaVuSans-Bold.ttf"


def font_dir(system: Path = SYSTEM_DIR) -> Path:
    """The system's DejaVu folder when it holds both faces, else the bundled one."""
    if (system / REGULAR).is_file() and (system / BOLD).is_file():
        return system
    return BUNDLED_DIR


@cache
def dejavu_dir() -> Path:
    """font_dir() for this process (the answer does not change while it runs)."""
    return font_dir()
