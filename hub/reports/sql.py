"""Portable SQL pieces the reports need, compiled per database (SQLite and PostgreSQL).

Times become *epoch days* (fractional days since 1970-01-01 UTC) so that differences, overlaps and
sums are plain arithmetic on both engines.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement, GenericFunction

SECONDS_PER_DAY = 86400.0
UNIX_EPOCH_JULIAN_DAY = 2440587.5


class epoch_days(FunctionElement):  # noqa: N801  (reads as a SQL function)
    """SQL: a timestamp column as fractional days since 1970-01-01 UTC."""

    type = Float()
    inherit_cache = True


@compiles(epoch_days)
def _epoch_days_postgresql(element, compiler, **kw):
    return f"(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) / {SECONDS_PER_DAY})"


@compiles(epoch_days, "sqlite")
def _epoch_days_sqlite(element, compiler, **kw):
    # The hub stores UTC without zone on SQLite ("YYYY-MM-DD HH:MM:SS.ffffff"): julianday reads it.
    return f"(julianday({compiler.process(element.clauses, **kw)}) - {UNIX_EPOCH_JULIAN_DAY})"


def days_since_epoch(moment: datetime) -> float:
    """The same number in Python, for bounds passed as parameters (an aware datetime)."""
    return moment.timestamp() / SECONDS_PER_DAY


class greatest(GenericFunction):  # noqa: N801
    """SQL: the largest of its arguments (GREATEST on PostgreSQL, the scalar max() on SQLite)."""

    type = Float()
    inherit_cache = True


class least(GenericFunction):  # noqa: N801
    """SQL: the smallest of its arguments (LEAST on PostgreSQL, the scalar min() on SQLite)."""

    type = Float()
    inherit_cache = True


@compiles(greatest, "sqlite")
def _greatest_sqlite(element, compiler, **kw):
    return f"max({compiler.process(element.clauses, **kw)})"


@compiles(least, "sqlite")
def _least_sqlite(element, compiler, **kw):
    return f"min({compiler.process(element.clauses, **kw)})"


def overlap(start_a, end_a, start_b, end_b):
    """SQL: the length of the overlap of two intervals of epoch days (0 when they do not meet)."""
    return greatest(0.0, least(end_a, end_b) - greatest(start_a, start_b))
