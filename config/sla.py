"""The lateness norms in `config/sla.toml`, read once."""
import tomllib
from functools import cache
from pathlib import Path


@cache
def days_allowed_in_status() -> dict[str, int]:
    with open(Path(__file__).with_name("sla.toml"), "rb") as handle:
        return dict(tomllib.load(handle)["days_in_status"])
