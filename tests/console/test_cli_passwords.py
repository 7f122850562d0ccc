"""`goodloop admin create --password-stdin` and `goodloop admin set-password`, run as real processes."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest

from service.auth.admins import authenticate_admin_password
from service.db import Database
from service.errors import DomainError
from tests.service.test_cli import GOODLOOP


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("GOODLOOP_", "STRIPE_", "DATABASE_URL"))
    }
    return {
        **clean,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "GOODLOOP_DATA_DIR": str(tmp_path / "data"),
        "GOODLOOP_LOG_FORMAT": "json",
    }


def run(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GOODLOOP, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


def signs_in(env: dict[str, str], email: str, password: str) -> bool:
    async def attempt() -> bool:
        database = Database.from_url(env["DATABASE_URL"])
        try:
            async with database.transaction() as session:
                await authenticate_admin_password(session, email=email, password=password)
            return True
        except DomainError:
            return False
        finally:
            await database.dispose()

    return asyncio.run(attempt())


class TestAdminPasswords:
    def test_create_with_password_stdin_sets_a_console_password_and_prints_the_token(
        self, env: dict[str, str]
    ) -> None:
        assert run(env, "migrate").returncode == 0

        result = run(
            env,
            *("admin", "create", "--email", "Ops@Goodloop.org", "--role", "reviewer", "--password-stdin"),
            stdin="a long console passphrase\n",
        )

        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().splitlines()[-1].startswith("gl_admin_")
        assert "a long console passphrase" not in result.stdout
        assert signs_in(env, "ops@goodloop.org", "a long console passphrase")

    def test_set_password_replaces_the_password(self, env: dict[str, str]) -> None:
        run(env, "migrate")
        run(env, "admin", "create", "--email", "ops@goodloop.org", "--role", "finance")
        assert not signs_in(env, "ops@goodloop.org", "another long passphrase")

        result = run(
            env, "admin", "set-password", "--email", "ops@goodloop.org", stdin="another long passphrase\n"
        )

        assert result.returncode == 0, result.stderr
        assert signs_in(env, "ops@goodloop.org", "another long passphrase")

    def test_short_password_is_refused_and_nothing_is_created(self, env: dict[str, str]) -> None:
        run(env, "migrate")

        result = run(
            env,
            *("admin", "create", "--email", "ops@goodloop.org", "--role", "finance", "--password-stdin"),
            stdin="short\n",
        )

        assert result.returncode == 1
        assert "at least 10 characters" in result.stderr
        again = run(env, "admin", "create", "--email", "ops@goodloop.org", "--role", "finance")
        assert again.returncode == 0, again.stderr

    def test_set_password_for_unknown_admin_fails_cleanly(self, env: dict[str, str]) -> None:
        run(env, "migrate")

        result = run(
            env, "admin", "set-password", "--email", "ghost@goodloop.org", stdin="a long passphrase\n"
        )

        assert result.returncode == 1
        assert "no admin with email ghost@goodloop.org" in result.stderr
