"""Retention settings that make no sense are refused at start-up, with a message that says what to set."""
import pytest

from config import Config, ConfigError
from hub import create_app


@pytest.mark.parametrize("months", [-1, 0, 1, 5])
def test_a_retention_period_shorter_than_aftercare_is_refused(tmp_path, months):
    with pytest.raises(ConfigError, match=r"HUB_RETENTION_MONTHS must be at least 6 .* not " + str(months)):
        create_app(Config(env="test", instance_path=str(tmp_path), retention_months=months))


@pytest.mark.parametrize("years", [-5, 0, 4])
def test_an_audit_period_shorter_than_the_databases_floor_is_refused(tmp_path, years):
    with pytest.raises(ConfigError, match=r"HUB_AUDIT_RETENTION_YEARS must be at least 5 .* not " + str(years)):
        create_app(Config(env="test", instance_path=str(tmp_path), audit_retention_years=years))


def test_the_defaults_and_the_environment(monkeypatch):
    assert (Config().retention_months, Config().audit_retention_years) == (24, 5)
    monkeypatch.setenv("HUB_RETENTION_MONTHS", "36")
    monkeypatch.setenv("HUB_AUDIT_RETENTION_YEARS", "7")
    config = Config.from_env()
    assert (config.retention_months, config.audit_retention_years) == (36, 7)
    config.check()
    monkeypatch.setenv("HUB_RETENTION_MONTHS", "twee jaar")
    with pytest.raises(ConfigError, match="HUB_RETENTION_MONTHS must be a whole number"):
        Config.from_env()


def test_six_months_is_the_shortest_period_allowed():
    Config(retention_months=6, audit_retention_years=5).check()
