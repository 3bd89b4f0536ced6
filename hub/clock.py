"""The one place the hub asks what time it is, so tests can freeze it (`freeze()`), and what day it is
in the Netherlands (`local_today`)."""
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

# The hub's days are Dutch days: a date a user gives or reads (a trajectory's start, a phase, a
# deadline) is the day on the calendar in the Netherlands, as the reports count them.
AMSTERDAM = ZoneInfo("Europe/Amsterdam")

_frozen: datetime | None = None


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def freeze(at: datetime | None) -> None:
    """Make `utcnow()` answer `at` (None: the real clock again). For tests and replays only."""
    global _frozen
    _frozen = at


def local_today(now: datetime) -> date:
    """The day it is at `now` in the Netherlands: until 01:00 or 02:00 there, no longer UTC's day."""
    return now.astimezone(AMSTERDAM).date()


def dutch_day(moment: datetime) -> str:
    """A moment as its day in the Netherlands (YYYY-MM-DD), for pages (the `dutch_day` filter)."""
    return local_today(moment).isoformat()


def dutch_time(moment: datetime) -> str:
    """A moment as the clock in the Netherlands shows it (YYYY-MM-DD HH:MM), for pages (`dutch_time`)."""
    return moment.astimezone(AMSTERDAM).strftime("%Y-%m-%d %H:%M")
