"""The match state machine: the only place a match's status changes, and only along its edges."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from campaigns.matching import status as machine
from campaigns.matching.errors import IllegalMatchTransition
from campaigns.matching.models import Match, MatchStatus

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("campaigns", "webhooks", "service", "sim")
MACHINE = ROOT / "campaigns" / "matching" / "status.py"


def _status_writes(source: str, name: str) -> list[str]:
    """`x.status = ...` on a match (its name says match, or the value is a MatchStatus) and
    `update(Match)...values(status=...)`, as "name:line" strings."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename=name)):
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets, value = [node.target], node.value
        for target in targets:
            if not (isinstance(target, ast.Attribute) and target.attr == "status"):
                continue
            owner = ast.unparse(target.value).lower()
            if "match" in owner or (value is not None and "MatchStatus" in ast.unparse(value)):
                found.append(f"{name}:{target.lineno}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "values"
            and any(k.arg == "status" for k in node.keywords)
            and "update(Match)" in ast.unparse(node.func)
        ):
            found.append(f"{name}:{node.lineno}")
    return found


class TestOnlyTheMachineSetsStatus:
    def test_no_module_outside_the_state_machine_assigns_a_match_status(self) -> None:
        offenders = [
            where
            for package in PACKAGES
            for path in sorted((ROOT / package).rglob("*.py"))
            if path != MACHINE
            for where in _status_writes(path.read_text(), str(path.relative_to(ROOT)))
        ]

        assert offenders == []

    def test_the_scan_sees_the_shapes_the_engine_used_to_have(self) -> None:
        sample = (
            "match.status = MatchStatus.VOIDED\n"
            "row.status = MatchStatus.PAID\n"
            "program.status = ProgramStatus.ENDED\n"
            "sa.update(Match).values(status='paid')\n"
        )

        assert _status_writes(sample, "sample.py") == ["sample.py:1", "sample.py:2", "sample.py:4"]


class TestMove:
    @pytest.mark.parametrize("source", list(MatchStatus))
    @pytest.mark.parametrize("target", list(MatchStatus))
    def test_a_step_is_taken_only_along_an_edge(self, source: MatchStatus, target: MatchStatus) -> None:
        match = Match(status=source)
        if target in machine.EDGES[source]:
            assert machine.move(match, target) is source
            assert match.status is target
        else:
            with pytest.raises(IllegalMatchTransition):
                machine.move(match, target)
            assert match.status is source

    def test_a_paid_match_goes_nowhere(self) -> None:
        assert machine.EDGES[MatchStatus.PAID] == frozenset()
