from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest

from service.auth.secrets import password_hasher
from service.settings import Environment, SettingsError, load_settings

LEGAL_SAMPLE = str(Path(__file__).with_name("legal_sample.md"))
PRODUCTION = {
    "GOODLOOP_ENV": "production",
    "GOODLOOP_SECRET_KEY": "Ad1-g2Q0hzLDOLAZaWffMfJIqENYMIoPmYbPdWRnO_JFLNf4P_7SgyP8mObAA6un",
    "DATABASE_URL": "postgresql+asyncpg://goodloop@db/goodloop",
    "PUBLIC_BASE_URL": "https://give.example.org",
    "STRIPE_SECRET_KEY": "sk_live_123",
    "STRIPE_WEBHOOK_SECRET": "whsec_HVp8lGaZOK41GdR1ttIP3QbsFUlNW6Xw",
    "STRIPE_CONNECT_WEBHOOK_SECRET": "whsec_4b1f0e6c2a9d8b7e3f5a1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f",
    "GOODLOOP_PRIVACY_MARKDOWN": LEGAL_SAMPLE,
    "GOODLOOP_TERMS_MARKDOWN": LEGAL_SAMPLE,
    "GOODLOOP_SMTP_URL": "smtps://goodloop%40example.org:s3cr%3At@smtp.example.org",
    "GOODLOOP_MAIL_FROM": "Goodloop <receipts@give.example.org>",
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
            "GOODLOOP_PRIVACY_MARKDOWN",
            "GOODLOOP_TERMS_MARKDOWN",
            "GOODLOOP_SMTP_URL",
            "GOODLOOP_MAIL_FROM",
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


WEAK_SECRET_KEYS = {
    "one repeated character": "k" * 48,
    "too short": "Zq8rT1vB9xL2mN7p",
    "two characters": "ab" * 24,
    "a short pattern repeated": "Tr0ub4dor&3" * 4,
    "the alphabet in order": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
    "mostly one character": "a" * 40 + "Zq8rT1vB",
}


class TestProductionRefusesWeakSettings:
    @pytest.mark.parametrize("key", WEAK_SECRET_KEYS.values(), ids=WEAK_SECRET_KEYS.keys())
    def test_a_guessable_secret_key_is_refused(self, key: str) -> None:
        with pytest.raises(SettingsError, match="GOODLOOP_SECRET_KEY"):
            load_settings({**PRODUCTION, "GOODLOOP_SECRET_KEY": key})

    @pytest.mark.parametrize(
        "make",
        [lambda: secrets.token_hex(16), lambda: secrets.token_urlsafe(24), lambda: secrets.token_hex(32)],
        ids=["32 hex digits", "32 url-safe characters", "64 hex digits"],
    )
    def test_generated_secret_keys_pass(self, make: Callable[[], str]) -> None:
        # The usual generators, many times: the estimate must not refuse real randomness.
        for _ in range(500):
            load_settings({**PRODUCTION, "GOODLOOP_SECRET_KEY": make()})

    @pytest.mark.parametrize("name", ["STRIPE_WEBHOOK_SECRET", "STRIPE_CONNECT_WEBHOOK_SECRET"])
    @pytest.mark.parametrize(
        "value",
        [
            "whsec_a",
            "sk_live_51HVp8lGaZOK41GdR1ttIP3QbsFUlNW6Xw",
            "HVp8lGaZOK41GdR1ttIP3QbsFUlNW6Xw",
            "whsec_HVp8lGaZOK41 GdR1ttIP3QbsFUlNW6Xw",
            "WHSEC_HVp8lGaZOK41GdR1ttIP3QbsFUlNW6Xw",
        ],
    )
    def test_a_webhook_secret_not_shaped_like_stripes_is_refused(self, name: str, value: str) -> None:
        with pytest.raises(SettingsError, match=name):
            load_settings({**PRODUCTION, name: value})

    @pytest.mark.parametrize(
        "url",
        ["http://give.example.org", "give.example.org", "https://", "ftp://give.example.org", "https:// x"],
    )
    def test_a_public_base_url_that_is_not_https_is_refused(self, url: str) -> None:
        with pytest.raises(SettingsError, match="PUBLIC_BASE_URL"):
            load_settings({**PRODUCTION, "PUBLIC_BASE_URL": url})

    def test_a_weak_metrics_token_is_refused(self) -> None:
        with pytest.raises(SettingsError, match="GOODLOOP_METRICS_TOKEN"):
            load_settings({**PRODUCTION, "GOODLOOP_METRICS_TOKEN": "metrics"})

    def test_development_takes_what_it_is_given(self, tmp_path: Path) -> None:
        settings = load_settings(
            {"GOODLOOP_DATA_DIR": str(tmp_path), "GOODLOOP_SECRET_KEY": "dev", "STRIPE_WEBHOOK_SECRET": "x"}
        )

        assert settings.secret_key == "dev"


class TestMetricsSettings:
    def test_token_and_address_are_read(self) -> None:
        token = secrets.token_urlsafe(32)

        settings = load_settings(
            {**PRODUCTION, "GOODLOOP_METRICS_TOKEN": token, "GOODLOOP_METRICS_ADDRESS": "127.0.0.1:9100"}
        )

        assert settings.metrics_token == token
        assert settings.metrics_address == ("127.0.0.1", 9100)
        assert token not in repr(settings)

    def test_an_ipv6_address_is_read(self) -> None:
        settings = load_settings({**PRODUCTION, "GOODLOOP_METRICS_ADDRESS": "[::1]:9100"})

        assert settings.metrics_address == ("::1", 9100)

    @pytest.mark.parametrize("address", ["9100", "127.0.0.1", "127.0.0.1:99999", ":9100", "127.0.0.1:http"])
    def test_a_malformed_address_is_refused(self, address: str) -> None:
        with pytest.raises(SettingsError, match="GOODLOOP_METRICS_ADDRESS"):
            load_settings({**PRODUCTION, "GOODLOOP_METRICS_ADDRESS": address})


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


class TestLegalDocuments:
    @pytest.mark.parametrize("name", ["GOODLOOP_PRIVACY_MARKDOWN", "GOODLOOP_TERMS_MARKDOWN"])
    def test_a_path_that_cannot_be_read_stops_the_start(self, name: str, tmp_path: Path) -> None:
        with pytest.raises(SettingsError, match=name):
            load_settings({**PRODUCTION, name: str(tmp_path / "missing.md")})

    def test_production_keeps_the_operators_files(self) -> None:
        settings = load_settings(PRODUCTION)

        assert settings.privacy_markdown == settings.terms_markdown == Path(LEGAL_SAMPLE)

    def test_development_runs_on_the_built_in_template(self, tmp_path: Path) -> None:
        settings = load_settings({"GOODLOOP_DATA_DIR": str(tmp_path)})

        assert settings.privacy_markdown is None and settings.terms_markdown is None
