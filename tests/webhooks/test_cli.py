"""The operator commands, run as the `goodloop` process the way an operator runs them."""

from __future__ import annotations

from pathlib import Path

from tests.service.test_cli import env, run

__all__ = ["env"]


class TestCommands:
    def test_ledger_check_passes_on_an_empty_database(self, env: dict[str, str]) -> None:
        assert run(env, "migrate").returncode == 0

        result = run(env, "ledger", "check")

        assert result.returncode == 0, result.stderr
        assert "ledger check passed" in result.stdout

    def test_replaying_an_unknown_event_fails(self, env: dict[str, str]) -> None:
        run(env, "migrate")

        result = run(env, "events", "replay", "evt_does_not_exist")

        assert result.returncode == 1
        assert "no stored event" in result.stderr

    def test_reconcile_refuses_a_bad_time(self, env: dict[str, str], tmp_path: Path) -> None:
        result = run(env, "stripe", "reconcile", "--since", "yesterday-ish")

        assert result.returncode == 2
        assert "not a time" in result.stderr
