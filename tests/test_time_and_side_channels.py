"""Domain code takes its time from the injected clock and its per-transaction state from the
unit of work (docs/architecture.md, "Unit of work and clock"): no module in campaigns/ or
webhooks/ reads the system time itself or keeps state in `session.info`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = ("campaigns", "webhooks")

SYSTEM_TIME = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "monotonic"),
    ("time", "localtime"),
    ("time", "gmtime"),
}
"""Calls that ask the system for the time; `utcnow` (service.db) is refused by name anywhere."""


def _offences(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "utcnow":
            found.append((node.lineno, "utcnow"))
        elif isinstance(node, ast.alias) and node.name.split(".")[-1] == "utcnow":
            found.append((getattr(node, "lineno", 0), "imports utcnow"))
        elif isinstance(node, ast.Attribute):
            owner = node.value
            owner_name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            if node.attr == "utcnow":
                found.append((node.lineno, f"{owner_name}.utcnow"))
            elif (owner_name, node.attr) in SYSTEM_TIME:
                found.append((node.lineno, f"{owner_name}.{node.attr}"))
            elif node.attr == "info" and owner_name.endswith("session"):
                found.append((node.lineno, f"{owner_name}.info"))
    return found


def _domain_modules() -> list[Path]:
    return sorted(path for package in DOMAIN for path in (ROOT / package).rglob("*.py"))


def test_the_domain_has_modules() -> None:
    assert len(_domain_modules()) > 50


@pytest.mark.parametrize("path", _domain_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_domain_module_reads_the_system_time_or_session_info(path: Path) -> None:
    offences = _offences(ast.parse(path.read_text(), filename=str(path)))
    assert offences == [], f"{path.relative_to(ROOT)}: {offences}"


@pytest.mark.parametrize(
    "source",
    [
        "from service.db import utcnow\n",
        "x = utcnow()\n",
        "import datetime\nx = datetime.datetime.now(UTC)\n",
        "from datetime import datetime\nx = datetime.now(UTC)\n",
        "import time\nx = time.time()\n",
        "import time\nx = time.monotonic()\n",
        "from datetime import date\nx = date.today()\n",
        "def f(session):\n    return session.info.get('k')\n",
        "def f(uow):\n    uow.session.info['k'] = 1\n",
        "def f(s):\n    s.sync_session.info.pop('k')\n",
        "created = mapped_column(default=utcnow)\n",
    ],
)
def test_the_check_sees_each_way_of_doing_it(source: str) -> None:
    assert _offences(ast.parse(source)) != []


def test_the_check_lets_the_clock_and_unit_of_work_through() -> None:
    source = "async def f(session, now):\n    session.now(); session.clock.now(); now.date(); record.info\n"
    assert _offences(ast.parse(source)) == []
