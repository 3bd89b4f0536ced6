"""Settings come from HUB_* variables; production refuses to start with development secrets."""
import pytest

from config import DEV_SECRET_KEY, Config, ConfigError
from hub import create_app
from hub.crypto import new_key

GOOD_SECRET = "Xq3v9Lr0-the-production-secret-is-long-and-random"


def production(tmp_path, **overrides) -> Config:
    settings = {"env": "production", "instance_path": str(tmp_path), "secret_key": GOOD_SECRET,
                "field_keys": [new_key()], "base_url": "https://hub.example.nl",
                "database_url": f"sqlite:///{tmp_path}/prod.sqlite3"}
    return Config(**{**settings, **overrides})


def test_production_starts_with_its_own_secrets(tmp_path):
    app = create_app(production(tmp_path))
    assert app.config["SECRET_KEY"] == GOOD_SECRET


def test_production_refuses_the_development_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="HUB_SECRET_KEY"):
        create_app(production(tmp_path, secret_key=DEV_SECRET_KEY))


def test_production_refuses_a_short_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="at least 32 characters"):
        create_app(production(tmp_path, secret_key="short-but-not-a-dev-secret"))


def test_production_refuses_to_run_on_development_field_keys(tmp_path):
    """Without HUB_FIELD_KEYS the hub would make its own key in instance/: fine on a laptop, not in production."""
    with pytest.raises(ConfigError, match="HUB_FIELD_KEYS"):
        create_app(production(tmp_path, field_keys=[]))
    assert not (tmp_path / "field-keys").exists()


def test_a_field_key_of_the_wrong_size_is_refused_clearly(tmp_path):
    with pytest.raises(ConfigError, match="HUB_FIELD_KEYS.*32 bytes"):
        create_app(production(tmp_path, field_keys=["dG9vIHNob3J0"]))


def test_production_refuses_a_plain_http_address(tmp_path):
    with pytest.raises(ConfigError, match="https"):
        create_app(production(tmp_path, base_url="http://hub.example.nl"))


def test_production_with_nothing_set_does_not_start(tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_ENV", "production")
    monkeypatch.setenv("HUB_INSTANCE_PATH", str(tmp_path))
    for name in ("HUB_SECRET_KEY", "HUB_FIELD_KEYS", "HUB_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="HUB_SECRET_KEY"):
        create_app()


def test_settings_are_read_from_hub_variables(monkeypatch, tmp_path):
    key = new_key()
    monkeypatch.setenv("HUB_ENV", "production")
    monkeypatch.setenv("HUB_SECRET_KEY", GOOD_SECRET)
    monkeypatch.setenv("HUB_FIELD_KEYS", f" {key} , {new_key()}")
    monkeypatch.setenv("HUB_BASE_URL", "https://hub.example.nl")
    monkeypatch.setenv("HUB_DATABASE_URL", "postgresql://hub@db/hub")
    monkeypatch.setenv("HUB_LOGIN_FAILURES_PER_ADDRESS", "200")
    config = Config.from_env()
    config.check()
    assert config.production
    assert config.field_keys[0] == key and len(config.field_keys) == 2
    assert config.login_failures_per_address == 200
    assert config.flask_settings(str(tmp_path))["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://hub@db/hub"


def test_development_defaults_are_safe_to_start_with(monkeypatch):
    for name in ("HUB_ENV", "HUB_SECRET_KEY", "HUB_SESSION_IDLE_MINUTES", "HUB_LOGIN_FAILURES_PER_ACCOUNT"):
        monkeypatch.delenv(name, raising=False)
    config = Config.from_env()
    config.check()
    assert (config.session_idle_minutes, config.session_absolute_hours) == (15, 8)
    assert (config.login_failures_per_account, config.login_failure_window_minutes) == (5, 15)


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("HUB_SESSION_IDLE_MINUTES", "fifteen", "HUB_SESSION_IDLE_MINUTES must be a whole number"),
    ("HUB_SESSION_IDLE_MINUTES", "0", "must be positive"),
    ("HUB_SESSION_IDLE_MINUTES", "600", "cannot be longer"),
    ("HUB_LOGIN_FAILURES_PER_ACCOUNT", "-1", "must be positive"),
    ("HUB_ENV", "staging", "HUB_ENV must be"),
    ("HUB_DEFAULT_LOCALE", "de", "nl or en"),
])
def test_a_setting_that_makes_no_sense_is_refused_with_its_name(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=message):
        Config.from_env().check()
