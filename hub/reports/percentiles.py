"""Waiting in whole days, and the continuous percentile over them, in SQL, the same on every path.

A wait is counted in whole Dutch calendar days: from the day in the Netherlands on which the referral
was requested to the day on which it started (its first in_progress). Started the same day: 0 days;
requested on Monday, started on Thursday: 3 days, whatever the clock times. That is how coaches and
partners count ("after three days"), it is the unit of the report's period (whole Dutch days), and it
makes an exact percentile computable from counts per day value (`waiting_day_counts`).

The percentile is the continuous one of PostgreSQL's `percentile_cont`: over the n values in order,
the value at 0-based position p * (n - 1), interpolated linearly between the values at its floor and
ceiling, with the same floating-point steps (lo + (hi - lo) * fraction), so that every path gives
bit-identical numbers: `percentile_cont` itself, the ranked values on SQLite, and the counts.
"""
from __future__ import annotations

from fractions import Fraction

from sqlalchemy import Float, case, cast, func, literal

from hub.reports.sql import days_between, dutch_date

PERCENTILES = {"median_days": Fraction(1, 2), "p90_days": Fraction(9, 10)}


def wait_days(requested_at, started_at):
    """SQL: whole Dutch calendar days from the request's day to the start's day (NULL: not started)."""
    return days_between(dutch_date(requested_at), dutch_date(started_at))


def continuous(p: Fraction, n, value_at):
    """SQL (an aggregate): percentile_cont(p) of a group of `n` values (a per-row expression, the same
    on every row of the group), where `value_at(i)` is an aggregate giving the value at 0-based
    position i in ascending order. The positions in exact integer arithmetic, the fraction in floating
    point, as PostgreSQL computes them."""
    position = (n - 1) * p.numerator
    low = position // p.denominator
    high = low + case((position % p.denominator > 0, 1), else_=0)
    fraction = func.max(literal(float(p), Float) * cast(n - 1, Float) - low)
    return value_at(low) + (value_at(high) - value_at(low)) * fraction
