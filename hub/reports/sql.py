"""Portable SQL pieces the reports need, compiled per database (SQLite and PostgreSQL).

Times become *epoch days* (fractional days since 1970-01-01 UTC) so that differences, overlaps and
sums are plain arithmetic on both engines.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Date, Float, Integer, text
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


# --- whole Dutch days ------------------------------------------------------------------------------
# PostgreSQL reads the zone from its time-zone database. SQLite has none, so there the Dutch date is
# computed by the EU rule in force since 1996: summer time (UTC+2) from the last Sunday of March,
# 01:00 UTC, to the last Sunday of October, 01:00 UTC; UTC+1 otherwise. (For earlier moments the two
# would differ; the hub holds none.) The hub stores times on SQLite as "YYYY-MM-DD HH:MM:SS.ffffff" in
# UTC, so text comparison is time comparison. The migration "waiting day counts" writes the same
# expressions into the triggers: change them together.
DUTCH_DATE_POSTGRESQL = "CAST(({t} AT TIME ZONE 'Europe/Amsterdam') AS DATE)"
DUTCH_DATE_SQLITE = ("date({t}, CASE WHEN {t} >= date(strftime('%Y', {t}) || '-04-01', 'weekday 0', '-7 days') "
                     "|| ' 01:00:00' AND {t} < date(strftime('%Y', {t}) || '-11-01', 'weekday 0', '-7 days') "
                     "|| ' 01:00:00' THEN '+2 hours' ELSE '+1 hour' END)")
DAYS_BETWEEN_POSTGRESQL = "({b} - {a})"
DAYS_BETWEEN_SQLITE = "CAST(julianday({b}) - julianday({a}) AS INTEGER)"


class dutch_date(FunctionElement):  # noqa: N801
    """SQL: the calendar day in the Netherlands on which a (UTC) timestamp falls."""

    type = Date()
    inherit_cache = True


@compiles(dutch_date)
def _dutch_date_postgresql(element, compiler, **kw):
    return DUTCH_DATE_POSTGRESQL.format(t=compiler.process(element.clauses, **kw))


@compiles(dutch_date, "sqlite")
def _dutch_date_sqlite(element, compiler, **kw):
    return DUTCH_DATE_SQLITE.format(t=compiler.process(element.clauses, **kw))


class days_between(FunctionElement):  # noqa: N801
    """SQL: whole days from the first date to the second (negative when the second is earlier)."""

    type = Integer()
    inherit_cache = True


@compiles(days_between)
def _days_between_postgresql(element, compiler, **kw):
    first, second = (compiler.process(clause, **kw) for clause in element.clauses)
    return DAYS_BETWEEN_POSTGRESQL.format(a=first, b=second)


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    first, second = (compiler.process(clause, **kw) for clause in element.clauses)
    return DAYS_BETWEEN_SQLITE.format(a=first, b=second)


def plan_for_the_values(session) -> None:
    """PostgreSQL: plan this transaction's further statements for the values they are given. psycopg
    prepares a statement run five times, and PostgreSQL then may plan it once for any values: for a
    report's period that plan sorted 63,000 day counts on disk (60 ms) where the plan for the dates
    hashes them in memory (30 ms)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
