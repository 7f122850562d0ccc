from __future__ import annotations

from pathlib import Path

import pytest

from service.auth.secrets import password_hasher
from service.settings import Environment, SettingsError, load_settings

PRODUCTION = {
    "GOODLOOP_ENV": "production",
    "GOODLOOP_SECRET_KEY": "k" * 48,
    "DATABASE_URL": "postgresql+asyncpg://goodloop@db/goodloop",
    "PUBLIC_BASE_URL": "https://give.example.org",
    "STRIPE_SECRET_KEY": "sk_live_123",
    "STRIPE_WEBHOOK_SECRET": "whsec_a",
    "STRIPE_CONNECT_WEBHOOK_SECRET": "whsec_b",
}


class TestLoadSettings:
    def test_development_defaults_to_sqlite_and_the_sandbox(self, tmp_path: Path) -> None:
        settings = load_settings({"GOODLOOP_DATA_DIR": str(tmp_path)})

        assert settings.env is Environment.DEVELOPMENT
        assert settings.database_url == "sqlite+aiosqlite:///./goodloop.db"
        assert settings.uses_stripe_sandbox
        assert settings.public_base_url == "http://127.0.0.1:8000"

    def test_development_secret_is_generated_once_and_kept(self, tmp_path: Path) -> None:
        first = load_settings({"GOODLOOP_DATA_DIR": str(tmp_path)})
        second = load_settings({"GOODLOOP_DATA_DIR": str(tmp_path)})

        assert len(first.secret_key) >= 32
        assert first.secret_key == second.secret_key
        assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0

    def test_production_with_everything_set_loads(self) -> None:
        settings = load_settings(PRODUCTION)

        assert settings.is_production
        assert not settings.uses_stripe_sandbox

    @pytest.mark.parametrize(
        "missing",
        [
            "GOODLOOP_SECRET_KEY",
            "DATABASE_URL",
            "STRIPE_SECRET_KEY",
            "STRIPE_WEBHOOK_SECRET",
            "STRIPE_CONNECT_WEBHOOK_SECRET",
        ],
    )
    def test_production_refuses_a_missing_secret(self, missing: str) -> None:
        env = {k: v for k, v in PRODUCTION.items() if k != missing}

        with pytest.raises(SettingsError, match=missing):
            load_settings(env)

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("STRIPE_API_BASE", "http://127.0.0.1:12111"),
            ("DATABASE_URL", "sqlite+aiosqlite:///./goodloop.db"),
            ("GOODLOOP_SECRET_KEY", "short"),
            ("STRIPE_SECRET_KEY", "not-a-key"),
            ("GOODLOOP_TEST_PASSWORD_HASHING", "cheapest"),
        ],
    )
    def test_production_refuses_the_sandbox_and_unsafe_values(self, name: str, value: str) -> None:
        with pytest.raises(SettingsError):
            load_settings({**PRODUCTION, name: value})

    def test_unknown_environment_is_refused(self) -> None:
        with pytest.raises(SettingsError, match="GOODLOOP_ENV"):
            load_settings({"GOODLOOP_ENV": "staging"})


class TestPasswordHashing:
    def test_outside_the_suite_passwords_get_argon2id_at_full_cost(self) -> None:
        full = password_hasher({}).hash("correct horse battery")
        cheap = password_hasher({"GOODLOOP_TEST_PASSWORD_HASHING": "cheapest"}).hash("correct horse battery")

        assert full.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert cheap.startswith("$argon2id$") and "m=65536" not in cheap
        # A hash carries its parameters: each hasher verifies the other's.
        assert password_hasher({}).verify(cheap, "correct horse battery")
        assert password_hasher({"GOODLOOP_TEST_PASSWORD_HASHING": "cheapest"}).verify(
            full, "correct horse battery"
        )
