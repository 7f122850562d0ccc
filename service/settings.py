"""Settings from the environment; every variable is listed in the README ("Configuration")."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path

from service import setting_checks

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./goodloop.db"
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8000"
STRIPE_DEFAULT_API_BASE = "https://api.stripe.com"
SANDBOX_API_KEY = "sk_test_goodloop_sandbox"
SANDBOX_PATH = "/_sandbox/stripe"
SANDBOX_MAIL_PATH = "/_sandbox/mail"
DEFAULT_MAIL_FROM = "Goodloop <noreply@goodloop.invalid>"
"""Development's sender: nothing is sent from it (mail is captured); production sets its own."""

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# In development the app usually sits behind nothing or a local proxy.
LOOPBACK_NETWORKS: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("::1/128"),
)


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class SettingsError(RuntimeError):
    """The environment cannot run Goodloop safely; the message says what to set."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    env: Environment = Environment.DEVELOPMENT
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = field(repr=False)
    public_base_url: str = DEFAULT_PUBLIC_BASE_URL
    stripe_secret_key: str | None = field(default=None, repr=False)
    stripe_webhook_secret: str | None = field(default=None, repr=False)
    stripe_connect_webhook_secret: str | None = field(default=None, repr=False)
    stripe_api_base: str = STRIPE_DEFAULT_API_BASE
    data_dir: Path = Path(".goodloop")
    log_json: bool = True
    public_page_ttl_s: float = 0.0
    """How long a rendered public campaign page may be served from memory (0: never)."""
    trusted_proxies: tuple[IPNetwork, ...] = LOOPBACK_NETWORKS
    """Peers whose X-Forwarded-For is believed (GOODLOOP_TRUSTED_PROXIES); none in production
    unless set, since anyone else can write any address into that header."""
    live_max_subscribers: int = 10_000
    """Live progress streams one web process serves at once (GOODLOOP_LIVE_MAX_SUBSCRIBERS);
    beyond it GET /c/{slug}/live answers 503 and the page falls back to polling."""
    live_heartbeat_s: float = 15.0
    """Seconds between heartbeat comments on an idle live stream."""
    webhooks_allow_loopback: bool = False
    """Outbound webhooks may use http:// and reach loopback addresses
    (GOODLOOP_WEBHOOKS_ALLOW_LOOPBACK=1; development only, production refuses it)."""
    admin_idle_timeout: timedelta = timedelta(minutes=30)
    """A console session unused this long is over (GOODLOOP_ADMIN_IDLE_TIMEOUT_MINUTES)."""
    metrics_token: str | None = field(default=None, repr=False)
    """Bearer token /metrics asks for (GOODLOOP_METRICS_TOKEN)."""
    metrics_address: tuple[str, int] | None = None
    """(host, port) where `goodloop serve` serves /metrics on its own (GOODLOOP_METRICS_ADDRESS);
    then the public port answers 404 there."""
    media_dir: Path | None = None
    """Where uploaded media (campaign covers) are kept (GOODLOOP_MEDIA_DIR; in production a
    volume every web process mounts); None: `media` in the data directory (media_root)."""
    privacy_markdown: Path | None = None
    """The operator's privacy notice (GOODLOOP_PRIVACY_MARKDOWN); None: the built-in template."""
    terms_markdown: Path | None = None
    """The operator's terms of use (GOODLOOP_TERMS_MARKDOWN); None: the built-in template."""
    smtp_url: str | None = field(default=None, repr=False)
    """Where mail is sent (GOODLOOP_SMTP_URL, service/mail/smtp_url.py; it may hold a password,
    so it is never shown); None in development: mail is captured in the sandbox mailbox."""
    mail_from: str = DEFAULT_MAIL_FROM
    """The sender of every email (GOODLOOP_MAIL_FROM), e.g. `Goodloop <receipts@example.org>`."""

    @property
    def media_root(self) -> Path:
        return self.media_dir or self.data_dir / "media"

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def uses_stripe_sandbox(self) -> bool:
        """No Stripe key means the local sandbox stands in for Stripe (never in production)."""
        return self.stripe_secret_key is None

    @property
    def stripe_api_key(self) -> str:
        """The key the SDK sends; the sandbox accepts its own fixed test key."""
        return self.stripe_secret_key or SANDBOX_API_KEY

    @property
    def webhook_secret(self) -> str:
        """Platform endpoint secret; in the sandbox, one derived from the secret key."""
        return self.stripe_webhook_secret or _derived_secret(self.secret_key, "platform")

    @property
    def connect_webhook_secret(self) -> str:
        return self.stripe_connect_webhook_secret or _derived_secret(self.secret_key, "connect")

    @property
    def captures_mail(self) -> bool:
        """No SMTP URL: mail goes to the sandbox mailbox at /_sandbox/mail (never in production)."""
        return self.smtp_url is None and not self.is_production

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and check the environment; production refuses anything unsafe."""
    env_vars = os.environ if environ is None else environ
    raw_env = env_vars.get("GOODLOOP_ENV", Environment.DEVELOPMENT.value).strip().lower()
    try:
        env = Environment(raw_env)
    except ValueError as e:
        raise SettingsError(f"GOODLOOP_ENV must be 'development' or 'production', not {raw_env!r}") from e
    data_dir = Path(env_vars.get("GOODLOOP_DATA_DIR", ".goodloop"))
    if env is Environment.PRODUCTION:
        _require_production_secrets(env_vars)
    secret_key = env_vars.get("GOODLOOP_SECRET_KEY") or _development_secret_key(data_dir)
    return Settings(
        env=env,
        database_url=env_vars.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        secret_key=secret_key,
        public_base_url=(env_vars.get("PUBLIC_BASE_URL") or DEFAULT_PUBLIC_BASE_URL).rstrip("/"),
        stripe_secret_key=env_vars.get("STRIPE_SECRET_KEY") or None,
        stripe_webhook_secret=env_vars.get("STRIPE_WEBHOOK_SECRET") or None,
        stripe_connect_webhook_secret=env_vars.get("STRIPE_CONNECT_WEBHOOK_SECRET") or None,
        stripe_api_base=_stripe_api_base(env_vars),
        data_dir=data_dir,
        log_json=env_vars.get("GOODLOOP_LOG_FORMAT", "json" if env is Environment.PRODUCTION else "console")
        == "json",
        public_page_ttl_s=_seconds(env_vars, "GOODLOOP_PAGE_CACHE_SECONDS", default=2.0),
        trusted_proxies=_trusted_proxies(env_vars, env),
        live_max_subscribers=_live_max_subscribers(env_vars),
        webhooks_allow_loopback=_webhooks_allow_loopback(env_vars),
        admin_idle_timeout=_admin_idle_timeout(env_vars),
        metrics_token=env_vars.get("GOODLOOP_METRICS_TOKEN") or None,
        metrics_address=_metrics_address(env_vars),
        media_dir=Path(env_vars["GOODLOOP_MEDIA_DIR"]) if env_vars.get("GOODLOOP_MEDIA_DIR") else None,
        privacy_markdown=_markdown_file(env_vars, "GOODLOOP_PRIVACY_MARKDOWN"),
        terms_markdown=_markdown_file(env_vars, "GOODLOOP_TERMS_MARKDOWN"),
        smtp_url=_checked(env_vars, "GOODLOOP_SMTP_URL", setting_checks.smtp_url_problem),
        mail_from=_checked(env_vars, "GOODLOOP_MAIL_FROM", setting_checks.mail_from_problem)
        or DEFAULT_MAIL_FROM,
    )


def _markdown_file(env_vars: Mapping[str, str], name: str) -> Path | None:
    raw = env_vars.get(name)
    if not raw:
        return None
    path = Path(raw)
    # Read at start-up, not on a donor's first visit: a wrong path stops the deploy instead.
    try:
        path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SettingsError(f"{name} must name a readable UTF-8 Markdown file; {raw!r}: {e}") from e
    return path


def _webhooks_allow_loopback(env_vars: Mapping[str, str]) -> bool:
    raw = env_vars.get("GOODLOOP_WEBHOOKS_ALLOW_LOOPBACK", "").strip()
    if raw not in ("", "0", "1"):
        raise SettingsError(f"GOODLOOP_WEBHOOKS_ALLOW_LOOPBACK must be 1 or unset, not {raw!r}")
    return raw == "1"


def _live_max_subscribers(env_vars: Mapping[str, str]) -> int:
    raw = env_vars.get("GOODLOOP_LIVE_MAX_SUBSCRIBERS", "").strip()
    if not raw:
        return Settings.live_max_subscribers
    if not raw.isdigit() or not 1 <= int(raw) <= 1_000_000:
        raise SettingsError(
            f"GOODLOOP_LIVE_MAX_SUBSCRIBERS must be a whole number from 1 to 1000000, not {raw!r}"
        )
    return int(raw)


def _metrics_address(env_vars: Mapping[str, str]) -> tuple[str, int] | None:
    raw = env_vars.get("GOODLOOP_METRICS_ADDRESS")
    if not raw:
        return None
    address = setting_checks.parse_address(raw)
    if address is None:
        raise SettingsError(f"GOODLOOP_METRICS_ADDRESS must be host:port, like 127.0.0.1:9100, not {raw!r}")
    return address


def _trusted_proxies(env_vars: Mapping[str, str], env: Environment) -> tuple[IPNetwork, ...]:
    raw = env_vars.get("GOODLOOP_TRUSTED_PROXIES")
    if raw is None:
        return () if env is Environment.PRODUCTION else LOOPBACK_NETWORKS
    networks: list[IPNetwork] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as e:
            raise SettingsError(
                "GOODLOOP_TRUSTED_PROXIES takes comma-separated IP addresses or CIDR ranges; "
                f"{item!r} is neither"
            ) from e
    return tuple(networks)


def _admin_idle_timeout(env_vars: Mapping[str, str]) -> timedelta:
    name = "GOODLOOP_ADMIN_IDLE_TIMEOUT_MINUTES"
    raw = env_vars.get(name) or "30"
    try:
        minutes = int(raw)
    except ValueError as e:
        raise SettingsError(f"{name} must be a whole number of minutes, not {raw!r}") from e
    if not 1 <= minutes <= 12 * 60:
        raise SettingsError(f"{name} must be between 1 and 720 minutes")
    return timedelta(minutes=minutes)


_PRODUCTION_REQUIRED = (
    "GOODLOOP_SECRET_KEY",
    "DATABASE_URL",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_CONNECT_WEBHOOK_SECRET",
    "PUBLIC_BASE_URL",
    # Donors are shown the operator's own privacy notice and terms, never the built-in template.
    "GOODLOOP_PRIVACY_MARKDOWN",
    "GOODLOOP_TERMS_MARKDOWN",
    # Receipts, sign-in links and password resets must reach people: no mail, no start.
    "GOODLOOP_SMTP_URL",
    "GOODLOOP_MAIL_FROM",
)


def _require_production_secrets(env_vars: Mapping[str, str]) -> None:
    missing = [name for name in _PRODUCTION_REQUIRED if not env_vars.get(name)]
    if missing:
        raise SettingsError("production needs these environment variables: " + ", ".join(missing))
    _refuse_weak_values(env_vars)
    if not env_vars["STRIPE_SECRET_KEY"].startswith(("sk_live_", "sk_test_", "rk_live_", "rk_test_")):
        raise SettingsError("STRIPE_SECRET_KEY does not look like a Stripe secret key")
    base = env_vars.get("STRIPE_API_BASE")
    # The sandbox is for development only: production must talk to Stripe itself.
    if base and base.rstrip("/") != STRIPE_DEFAULT_API_BASE:
        raise SettingsError("STRIPE_API_BASE cannot point away from Stripe in production")
    if env_vars["DATABASE_URL"].startswith("sqlite"):
        raise SettingsError("production runs on PostgreSQL; DATABASE_URL is SQLite")
    if env_vars.get("GOODLOOP_TEST_PASSWORD_HASHING"):
        raise SettingsError("GOODLOOP_TEST_PASSWORD_HASHING is for the test suite; unset it in production")
    if _webhooks_allow_loopback(env_vars):
        # Outbound webhooks reaching the operator's own machine is exactly what the SSRF
        # guard exists to stop (campaigns/integrations/addresses.py).
        raise SettingsError("GOODLOOP_WEBHOOKS_ALLOW_LOOPBACK is for development; unset it in production")


def _refuse_weak_values(env_vars: Mapping[str, str]) -> None:
    """Each value that is set but unsafe, named with what is wrong (setting_checks)."""
    checks = {
        "GOODLOOP_SECRET_KEY": setting_checks.secret_problem,
        "GOODLOOP_METRICS_TOKEN": setting_checks.secret_problem,
        "STRIPE_WEBHOOK_SECRET": setting_checks.webhook_secret_problem,
        "STRIPE_CONNECT_WEBHOOK_SECRET": setting_checks.webhook_secret_problem,
        "PUBLIC_BASE_URL": setting_checks.https_url_problem,
    }
    for name, problem_of in checks.items():
        value = env_vars.get(name)
        problem = problem_of(value) if value else None
        if problem is not None:
            raise SettingsError(f"{name} {problem} in production")


def _checked(env_vars: Mapping[str, str], name: str, problem_of: Callable[[str], str | None]) -> str | None:
    """The variable's value (None when unset), refused in any environment when malformed."""
    value = (env_vars.get(name) or "").strip()
    if not value:
        return None
    problem = problem_of(value)
    if problem is not None:
        raise SettingsError(f"{name} {problem}")
    return value


def _seconds(env_vars: Mapping[str, str], name: str, *, default: float) -> float:
    raw = env_vars.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as e:
        raise SettingsError(f"{name} must be a number of seconds, not {raw!r}") from e
    if not 0 <= value <= 60:
        raise SettingsError(f"{name} must be between 0 and 60 seconds")
    return value


def _stripe_api_base(env_vars: Mapping[str, str]) -> str:
    explicit = env_vars.get("STRIPE_API_BASE")
    if explicit:
        return explicit.rstrip("/")
    if env_vars.get("STRIPE_SECRET_KEY"):
        return STRIPE_DEFAULT_API_BASE
    # No key: the SDK talks to the sandbox that `goodloop serve` mounts on its own address.
    public = (env_vars.get("PUBLIC_BASE_URL") or DEFAULT_PUBLIC_BASE_URL).rstrip("/")
    return public + SANDBOX_PATH


def _derived_secret(secret_key: str, purpose: str) -> str:
    digest = hmac.new(secret_key.encode(), f"sandbox-webhook:{purpose}".encode(), hashlib.sha256).hexdigest()
    return f"whsec_{digest}"


def _development_secret_key(data_dir: Path) -> str:
    """Generate the development key once and keep it, so sessions survive restarts."""
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once agree on one key instead of overwriting.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key
