"""Settings from the environment (HUB_*), with safe development defaults.

Every setting has one name, one default and one place where it is read. Production mode
(HUB_ENV=production) refuses to start with any development secret: see `Config.check()`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta

# Development defaults. They are public (this file is public), so production refuses them.
DEV_SECRET_KEY = "dev-only-secret-key-never-use-in-production"  # noqa: S105

# Retention (hub/rights): a closed trajectory's client data is kept at least as long as aftercare
# can last (half a year of monthly contact, DOMAIN.md), and the audit trail at least as long as the
# database's own trigger keeps it (migration "client rights": DELETE only of rows this old).
AFTERCARE_MONTHS = 6
AUDIT_RETENTION_FLOOR_YEARS = 5


class ConfigError(RuntimeError):
    """The configuration would make the hub unsafe or unusable; the message says what to set."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"HUB_{name}")
    return value if value not in (None, "") else default


def _int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"HUB_{name} must be a whole number, not {raw!r}") from exc


@dataclass
class Config:
    """The hub's settings. `from_env()` reads them; tests pass overrides."""

    env: str = "development"
    instance_path: str | None = None
    database_url: str | None = None
    secret_key: str = DEV_SECRET_KEY
    # AES-256-GCM keys, base64, newest first. Empty outside production: one is generated into instance/.
    field_keys: list[str] = field(default_factory=list)
    smtp_url: str | None = None
    mail_from: str = "hub@localhost"
    base_url: str = "http://127.0.0.1:5000"
    session_idle_minutes: int = 15
    session_absolute_hours: int = 8
    login_failures_per_account: int = 5  # per account and address; also the day's account-wide free failures
    login_failures_per_address: int = 50
    login_failure_window_minutes: int = 15
    default_locale: str = "nl"
    proxy_hops: int = 0  # reverse proxies in front of the hub whose X-Forwarded-For is trusted
    retention_months: int = 24  # a closed trajectory's client data is anonymised this long after closing
    audit_retention_years: int = 5  # the audit trail is removed after this long (not under a legal hold)
    testing: bool = False

    @classmethod
    def from_env(cls) -> Config:
        keys = _env("FIELD_KEYS")
        return cls(
            env=_env("ENV", "development"),
            instance_path=_env("INSTANCE_PATH"),
            database_url=_env("DATABASE_URL"),
            secret_key=_env("SECRET_KEY", DEV_SECRET_KEY),
            field_keys=[k.strip() for k in keys.split(",") if k.strip()] if keys else [],
            smtp_url=_env("SMTP_URL"),
            mail_from=_env("MAIL_FROM", "hub@localhost"),
            base_url=_env("BASE_URL", "http://127.0.0.1:5000"),
            session_idle_minutes=_int("SESSION_IDLE_MINUTES", 15),
            session_absolute_hours=_int("SESSION_ABSOLUTE_HOURS", 8),
            login_failures_per_account=_int("LOGIN_FAILURES_PER_ACCOUNT", 5),
            login_failures_per_address=_int("LOGIN_FAILURES_PER_ADDRESS", 50),
            login_failure_window_minutes=_int("LOGIN_FAILURE_WINDOW_MINUTES", 15),
            default_locale=_env("DEFAULT_LOCALE", "nl"),
            proxy_hops=_int("PROXY_HOPS", 0),
            retention_months=_int("RETENTION_MONTHS", 24),
            audit_retention_years=_int("AUDIT_RETENTION_YEARS", 5),
        )

    @property
    def production(self) -> bool:
        return self.env == "production"

    def check(self) -> None:
        """Refuse settings that are unsafe (in production) or make no sense (anywhere)."""
        if self.env not in ("development", "production", "test"):
            raise ConfigError(f"HUB_ENV must be development, test or production, not {self.env!r}")
        if self.session_idle_minutes <= 0 or self.session_absolute_hours <= 0:
            raise ConfigError("HUB_SESSION_IDLE_MINUTES and HUB_SESSION_ABSOLUTE_HOURS must be positive")
        if self.session_idle_minutes > self.session_absolute_hours * 60:
            raise ConfigError("HUB_SESSION_IDLE_MINUTES cannot be longer than HUB_SESSION_ABSOLUTE_HOURS")
        if min(self.login_failures_per_account, self.login_failures_per_address,
               self.login_failure_window_minutes) <= 0:
            raise ConfigError("the HUB_LOGIN_FAILURE* limits must be positive")
        if self.default_locale not in ("nl", "en"):
            raise ConfigError("HUB_DEFAULT_LOCALE must be nl or en")
        self._check_retention()
        if not self.production:
            return
        if self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32:
            raise ConfigError("production needs HUB_SECRET_KEY: a random value of at least 32 characters "
                              "(python -c 'import secrets; print(secrets.token_urlsafe(48))')")
        if not self.field_keys:
            raise ConfigError("production needs HUB_FIELD_KEYS: one or more 32-byte keys in base64, newest "
                              "first, comma-separated (python -c 'import base64, secrets; "
                              "print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())')")
        if not self.base_url.startswith("https://"):
            raise ConfigError("production needs HUB_BASE_URL with https://")
        if self.smtp_url and self.smtp_url.startswith("smtp://") and "@" in self.smtp_url:
            raise ConfigError("HUB_SMTP_URL sends a password without TLS: use smtp+starttls:// or smtps://")

    def _check_retention(self) -> None:
        if self.retention_months < AFTERCARE_MONTHS:
            raise ConfigError(
                f"HUB_RETENTION_MONTHS must be at least {AFTERCARE_MONTHS} (months after a trajectory closes; "
                f"aftercare runs half a year), not {self.retention_months}: a shorter period would erase "
                "clients still in aftercare. The default is 24.")
        if self.audit_retention_years < AUDIT_RETENTION_FLOOR_YEARS:
            raise ConfigError(
                f"HUB_AUDIT_RETENTION_YEARS must be at least {AUDIT_RETENTION_FLOOR_YEARS} (years the audit trail is "
                f"kept), not {self.audit_retention_years}: the database refuses to remove younger audit events. "
                "The default is 5.")

    def flask_settings(self, instance_path: str) -> dict:
        """The Flask and extension settings derived from this configuration."""
        database_url = self.database_url or f"sqlite:///{os.path.join(instance_path, 'hub.sqlite3')}"
        if database_url.startswith("postgresql://"):
            database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
        secure = self.production
        # PostgreSQL: no JIT compilation. The hub's statements are short; where the planner overestimates a
        # report's rows (joins over CTEs), JIT compiled for up to 1.4 s to save milliseconds (bench/run.py).
        # Autocommit: a transaction begins only before a request's first write (hub/connections.py).
        engine_options = ({"connect_args": {"options": "-c jit=off"}, "isolation_level": "AUTOCOMMIT",
                           "execution_options": {"hub_begin_before_writing": True}}
                          if database_url.startswith("postgresql") else {})
        # No pool_pre_ping (a round trip before every request): hub.connections pings idle connections only.
        return {
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": database_url,
            # hide_parameters: a database error in the log never shows the values (client data, e-mail)
            "SQLALCHEMY_ENGINE_OPTIONS": {"hide_parameters": True, **engine_options},
            "TESTING": self.testing,
            "SESSION_COOKIE_NAME": "__Host-hub" if secure else "hub",
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": secure,
            "PERMANENT_SESSION_LIFETIME": timedelta(hours=self.session_absolute_hours),
            "WTF_CSRF_TIME_LIMIT": self.session_absolute_hours * 3600,
            "BABEL_DEFAULT_LOCALE": self.default_locale,
            "BABEL_TRANSLATION_DIRECTORIES": "translations",
            "BABEL_DEFAULT_TIMEZONE": "Europe/Amsterdam",  # dates and times as the users' clocks show them
            "API_TITLE": "Ketenhub API",
            "API_VERSION": "v1",
            "OPENAPI_VERSION": "3.0.3",
            "OPENAPI_URL_PREFIX": "/api/v1",
            "OPENAPI_JSON_PATH": "openapi.json",
            "MAX_CONTENT_LENGTH": 1024 * 1024,
            "JSON_SORT_KEYS": False,
        }
