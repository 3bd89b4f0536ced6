"""Pooled database connections: one that sat idle is checked before use; one in steady use is not.

SQLAlchemy's `pool_pre_ping` sends a round trip to PostgreSQL before every request's first statement:
on a handoff ~1 ms of a gunicorn worker's CPU and wall time out of ~8 (bench/run.py, `--only handoff`),
for a connection that answered a moment ago. Here a connection idle for at least `PING_AFTER_IDLE`
seconds is pinged when it is checked out, and one that does not answer is replaced: the pool connects
afresh, up to three times (DisconnectionError). That covers what the ping is for: a server restarted
or a connection cut (by a firewall, a proxy, an idle timeout) while the hub was quiet.

A server that goes away while the hub is busy fails the statements of the requests under way. Their
transactions never commit, so nothing is half-written; they are answered 503 (`hub.http`), and
SQLAlchemy discards every connection of the pool made before the failure, so no later request
meets a dead one. SQLite is a file: nothing to ping.
"""
from __future__ import annotations

import sqlite3
import time

from sqlalchemy import event, exc
from sqlalchemy.pool import Pool

PING_AFTER_IDLE = 1.0  # seconds
_CHECKED_IN_AT = "hub.checked_in_at"


@event.listens_for(Pool, "checkin")
def _note_checkin(_dbapi_connection, connection_record) -> None:
    connection_record.info[_CHECKED_IN_AT] = time.monotonic()


@event.listens_for(Pool, "checkout")
def _ping_if_idle(dbapi_connection, connection_record, _connection_proxy) -> None:
    checked_in_at = connection_record.info.get(_CHECKED_IN_AT)  # None: connected just now
    if checked_in_at is None or isinstance(dbapi_connection, sqlite3.Connection):
        return
    if time.monotonic() - checked_in_at < PING_AFTER_IDLE:
        return
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        dbapi_connection.rollback()  # leave no transaction open behind the ping
    except Exception as error:  # noqa: BLE001  (any failure means: not usable; the pool connects anew)
        raise exc.DisconnectionError(f"an idle connection did not answer: {type(error).__name__}") from error
