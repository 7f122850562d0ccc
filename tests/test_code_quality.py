"""House style is part of the suite: mypy --strict and ruff must stay clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


def test_mypy_strict_passes_on_the_packages() -> None:
    result = _run(str(BIN / "mypy"))

    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_lint_passes() -> None:
    result = _run(
        str(BIN / "ruff"), "check", "service", "campaigns", "webhooks", "migrations", "tests", "bench"
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_applied() -> None:
    result = _run(
        str(BIN / "ruff"), "format", "--check", "service", "campaigns", "webhooks", "migrations", "tests"
    )

    assert result.returncode == 0, result.stdout + result.stderr
