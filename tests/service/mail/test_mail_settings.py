"""GOODLOOP_SMTP_URL and GOODLOOP_MAIL_FROM: read, checked, and never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.mail.smtp_url import parse_smtp_url, sender_domain
from service.settings import DEFAULT_MAIL_FROM, SettingsError, load_settings
from tests.service.test_settings import PRODUCTION


class TestMailSettings:
    def test_development_captures_mail_without_an_smtp_url(self, tmp_path: Path) -> None:
        settings = load_settings({"GOODLOOP_DATA_DIR": str(tmp_path)})

        assert settings.smtp_url is None
        assert settings.captures_mail
        assert settings.mail_from == DEFAULT_MAIL_FROM

    def test_production_reads_both_and_never_captures(self) -> None:
        settings = load_settings(PRODUCTION)

        assert not settings.captures_mail
        assert settings.mail_from == "Goodloop <receipts@give.example.org>"
        target = parse_smtp_url(PRODUCTION["GOODLOOP_SMTP_URL"], production=True)
        assert (target.host, target.port, target.implicit_tls) == ("smtp.example.org", 465, True)
        assert (target.username, target.password) == ("goodloop@example.org", "s3cr:t")
        assert "s3cr" not in repr(settings) and "s3cr" not in repr(target)

    @pytest.mark.parametrize(
        ("url", "port", "starttls_required"),
        [
            ("smtp://mail.example.org", 587, True),
            ("smtp://mail.example.org:25", 25, True),
            ("smtp://127.0.0.1:1025", 1025, False),
            ("smtp://localhost", 587, False),
        ],
    )
    def test_smtp_in_production_requires_starttls_unless_local(
        self, url: str, port: int, starttls_required: bool
    ) -> None:
        target = parse_smtp_url(url, production=True)

        assert (target.port, target.require_starttls) == (port, starttls_required)
        assert not parse_smtp_url(url, production=False).require_starttls

    @pytest.mark.parametrize(
        ("url", "why"),
        [
            ("http://mail.example.org", "smtp:// .STARTTLS. or smtps://"),
            ("smtp://", "names no host"),
            ("smtp://user@mail.example.org", "both a user and a password"),
            ("smtp://mail.example.org/inbox", "nothing more"),
            ("smtp://mail.example.org:99999", "not a valid URL"),
        ],
    )
    def test_a_malformed_smtp_url_stops_start_up_in_any_environment(
        self, tmp_path: Path, url: str, why: str
    ) -> None:
        with pytest.raises(SettingsError, match=f"GOODLOOP_SMTP_URL .*{why}"):
            load_settings({"GOODLOOP_DATA_DIR": str(tmp_path), "GOODLOOP_SMTP_URL": url})
        with pytest.raises(SettingsError):
            load_settings({**PRODUCTION, "GOODLOOP_SMTP_URL": url})

    def test_a_bad_password_is_not_repeated_in_the_error(self, tmp_path: Path) -> None:
        with pytest.raises(SettingsError) as refused:
            load_settings(
                {"GOODLOOP_DATA_DIR": str(tmp_path), "GOODLOOP_SMTP_URL": "smtp://u:hunter2@h:99999"}
            )

        assert "hunter2" not in str(refused.value)

    @pytest.mark.parametrize("value", ["nonsense", "Goodloop <receipts>", "a@b.org\r\nBcc: x@y.org"])
    def test_a_malformed_sender_stops_start_up(self, tmp_path: Path, value: str) -> None:
        with pytest.raises(SettingsError, match="GOODLOOP_MAIL_FROM"):
            load_settings({"GOODLOOP_DATA_DIR": str(tmp_path), "GOODLOOP_MAIL_FROM": value})

    def test_message_ids_use_the_senders_domain(self) -> None:
        assert sender_domain("Stichting Goodloop <Ontvangst@Goodloop.NL>") == "goodloop.nl"
