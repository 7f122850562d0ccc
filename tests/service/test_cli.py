"""The `goodloop` console script, run as a real process the way an operator runs it."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from campaigns.demo import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD
from service.auth.admins import authenticate_admin_password
from service.db import Database
from tests.live_server import free_port

GOODLOOP = shutil.which("goodloop", path=str(Path(sys.executable).parent)) or "goodloop"


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


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GOODLOOP, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


class TestAdminCreate:
    def test_prints_the_one_time_token_as_the_last_line(self, env: dict[str, str]) -> None:
        assert run(env, "migrate").returncode == 0

        result = run(env, "admin", "create", "--email", "Ops@Goodloop.org", "--role", "reviewer")

        assert result.returncode == 0, result.stderr
        token = result.stdout.strip().splitlines()[-1]
        assert token.startswith("gl_admin_")

    def test_duplicate_email_fails_cleanly(self, env: dict[str, str]) -> None:
        run(env, "migrate")
        run(env, "admin", "create", "--email", "ops@goodloop.org", "--role", "finance")

        again = run(env, "admin", "create", "--email", "ops@goodloop.org", "--role", "finance")

        assert again.returncode == 1
        assert "already exists" in again.stderr

    def test_unknown_role_is_refused(self, env: dict[str, str]) -> None:
        result = run(env, "admin", "create", "--email", "x@goodloop.org", "--role", "root")

        assert result.returncode == 2


class TestProductionRefusesUnsafeSettings:
    def test_serve_in_production_without_secrets_exits_with_the_reason(self, env: dict[str, str]) -> None:
        result = run({**env, "GOODLOOP_ENV": "production"}, "serve", "--no-worker")

        assert result.returncode == 2
        assert "GOODLOOP_SECRET_KEY" in result.stderr


@pytest.fixture
def served(env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    process = subprocess.Popen(
        [GOODLOOP, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=30)


class TestServe:
    def test_serve_migrates_a_fresh_database_and_serves(
        self, served: tuple[str, subprocess.Popen[str]]
    ) -> None:
        base, _ = served

        ready = httpx.get(f"{base}/readyz", timeout=5)
        signed_up = httpx.post(
            f"{base}/api/v1/nonprofits",
            json={
                "name": "Harbor Relief",
                "contact_email": "owner@harbor-relief.org",
                "password": "correct horse battery",
                "country": "IE",
                "registration_number": "CHY 1",
                "website": "https://harbor-relief.org",
            },
            timeout=10,
        )

        assert ready.json() == {"status": "ok", "database": "ok"}
        assert signed_up.status_code == 201

    def test_log_lines_are_json_with_a_request_id(self, served: tuple[str, subprocess.Popen[str]]) -> None:
        base, process = served
        httpx.get(f"{base}/healthz", headers={"X-Request-ID": "cli-test-0001"}, timeout=5)
        process.terminate()
        output, _ = process.communicate(timeout=30)

        records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
        assert any(r.get("request_id") == "cli-test-0001" and r.get("event") == "request" for r in records), (
            output
        )


class TestDemo:
    def test_demo_seeds_a_login_that_works_and_is_idempotent(self, env: dict[str, str]) -> None:
        first = run(env, "demo")
        second = run(env, "demo")

        assert first.returncode == 0, first.stderr
        assert second.returncode == 0, second.stderr
        assert "seeded" in first.stdout and "seeded" not in second.stdout
        assert "password:" in second.stdout
        assert f"{DEMO_ADMIN_EMAIL}" in second.stdout and DEMO_ADMIN_PASSWORD in second.stdout

        async def console_login() -> str:
            database = Database.from_url(env["DATABASE_URL"])
            try:
                async with database.transaction() as session:
                    admin = await authenticate_admin_password(
                        session, email=DEMO_ADMIN_EMAIL, password=DEMO_ADMIN_PASSWORD
                    )
                    return admin.role.value
            finally:
                await database.dispose()

        assert asyncio.run(console_login()) == "superadmin"
