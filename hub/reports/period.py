"""The period a report covers: whole days in Dutch time, from the first day to the last, inclusive."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from hub.clock import AMSTERDAM

MAX_DAYS = 5 * 366 + 1  # five years: enough for any evaluation, and at most 61 months in a trend


def local_midnight(day: date) -> datetime:
    """The moment `day` begins in the Netherlands, in UTC."""
    return datetime.combine(day, time(), AMSTERDAM).astimezone(UTC)


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    @classmethod
    def default(cls, today: date) -> Period:
        """This year so far: from 1 January up to and including today."""
        return cls(date(today.year, 1, 1), today)

    @property
    def start(self) -> datetime:
        return local_midnight(self.first)

    @property
    def end(self) -> datetime:
        """The first moment after the period (exclusive)."""
        return local_midnight(self.last + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def months(self) -> list[tuple[str, datetime, datetime]]:
        """The calendar months the period touches, as ("YYYY-MM", start, end), cut to the period."""
        months = []
        first = date(self.first.year, self.first.month, 1)
        while first <= self.last:
            following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            months.append((f"{first:%Y-%m}", local_midnight(max(first, self.first)),
                           local_midnight(min(following, self.last + timedelta(days=1)))))
            first = following
        return months

    def year_shares(self) -> list[tuple[int, float]]:
        """Per calendar year the period touches: which share of that year it covers (0-1]."""
        shares = []
        for year in range(self.first.year, self.last.year + 1):
            begin, finish = max(self.first, date(year, 1, 1)), min(self.last, date(year, 12, 31))
            shares.append((year, ((finish - begin).days + 1) / ((date(year, 12, 31) - date(year, 1, 1)).days + 1)))
        return shares

    def as_dict(self) -> dict:
        return {"from": self.first, "to": self.last}
