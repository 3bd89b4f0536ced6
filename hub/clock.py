"""The one place the hub asks what time it is, so tests can freeze it (`freeze()`)."""
from datetime import UTC, datetime

_frozen: datetime | None = None


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def freeze(at: datetime | None) -> None:
    """Make `utcnow()` answer `at` (None: the real clock again). For tests and replays only."""
    global _frozen
    _frozen = at
