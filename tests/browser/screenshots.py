"""Where the browser tests leave their screenshots for a person to look at (never committed):
GOODLOOP_SCREENSHOTS_DIR, else `.screenshots/` at the repository root (in .gitignore)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def screenshots_dir() -> Path:
    folder = Path(os.environ.get("GOODLOOP_SCREENSHOTS_DIR") or ROOT / ".screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
