"""The escalation norms in `config/sla.toml`, read and checked once."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True)
class Rule:
    statuses: tuple[str, ...]
    working_days: int
    source: str
    kinds: tuple[str, ...] = ()  # empty: every partner kind
    domains: tuple[str, ...] = ()  # empty: every life domain
    urgent: bool | None = None  # None: urgent or not
    municipality: str | None = None  # a chain director's override for partners in that municipality

    @property
    def specificity(self) -> tuple[int, int, int, int]:
        return (self.municipality is not None, self.urgent is not None, bool(self.kinds) + bool(self.domains),
                -self.working_days)


@dataclass(frozen=True)
class Ladder:
    level_2_after_working_days: int
    level_3_after_working_days: int


@cache
def _loaded() -> dict:
    with open(Path(__file__).with_name("sla.toml"), "rb") as handle:
        return tomllib.load(handle)


def default_rules() -> tuple[Rule, ...]:
    rules = []
    for raw in _loaded()["rule"]:
        statuses = tuple(raw.get("statuses") or [raw["status"]])
        rule = Rule(statuses=statuses, working_days=int(raw["working_days"]), source=raw["source"],
                    kinds=tuple(raw.get("kinds", ())), domains=tuple(raw.get("domains", ())), urgent=raw.get("urgent"))
        if rule.working_days <= 0:
            raise ValueError(f"config/sla.toml: working_days must be positive ({rule})")
        rules.append(rule)
    return tuple(rules)


def ladder() -> Ladder:
    raw = _loaded()["ladder"]
    return Ladder(int(raw["level_2_after_working_days"]), int(raw["level_3_after_working_days"]))
