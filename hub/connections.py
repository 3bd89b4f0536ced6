"""Database connections: SQLite's settings and its write lock; on PostgreSQL a transaction only once a
request writes, and pooled connections pinged only after they sat idle.

## SQLite

WAL, foreign keys, a busy timeout; the write lock taken just before a transaction's first write
(`_sqlite_lock_before_writing`, below), or by a writer that goes to the driver itself
(`begin_writing`).

## PostgreSQL: pinged when idle

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

## PostgreSQL: a transaction only once a request writes

psycopg begins a transaction before a connection's first statement, and SQLAlchemy ends it with a
COMMIT or ROLLBACK: two round trips more for every request, each ~0.1 ms of a gunicorn worker's CPU
(bench/run.py). Worse, a ROLLBACK (every request that only read) makes psycopg drop all its prepared
statements, so a read-only request never ran a prepared statement. So the hub's connections are in
autocommit (config: `isolation_level`, and the execution option `BEGIN_BEFORE_WRITING`), and
`_postgresql_begin_before_writing` sends BEGIN just before a connection's first statement that is
not a plain read, as SQLite's connections do (above):

- reads before the first write run as single statements, each seeing what is committed, as they did
  under READ COMMITTED (the hub's isolation) inside a transaction;
- the first write (INSERT, UPDATE, DELETE), a SELECT ... FOR UPDATE, a SAVEPOINT, and any textual
  statement (`text()`: SET LOCAL, set_config, DDL) begin the transaction, and every write after it is
  in it: a request's writes still commit or roll back together;
- a connection that asks for autocommit (`execution_options(isolation_level="AUTOCOMMIT")`, for a
  VACUUM) gets it: no BEGIN at all;
- a statement that is a whole transaction by itself (`ALONE`, the handoff's one statement) runs
  without BEGIN and COMMIT when no transaction is open: PostgreSQL makes a single statement atomic.
  Its writer flushes the session's pending changes first, so nothing of the request is written after
  it, apart from the durable audit events of a refusal.

A SELECT built by SQLAlchemy runs outside a transaction (unless it has an INSERT, UPDATE or DELETE
in a WITH), so it must not change anything else: no `select(func.nextval(...))` or advisory locks
there; say those with `text()`.
"""
from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager

from psycopg import Connection as PsycopgConnection
from psycopg.pq import TransactionStatus
from sqlalchemy import bindparam, event, exc, insert
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool
from sqlalchemy.sql.selectable import GenerativeSelect

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


# --- PostgreSQL: BEGIN before the first write -------------------------------------------------------

# Execution options. The hub's engine begins transactions before the first write (config sets it on
# the engine, with autocommit; other engines, e.g. the bench's admin connection, are left alone):
BEGIN_BEFORE_WRITING = "hub_begin_before_writing"
# This statement is a whole transaction by itself (see the module's docstring):
ALONE = "hub_alone"


@event.listens_for(Engine, "before_cursor_execute")
def _postgresql_begin_before_writing(_connection, cursor, statement, _parameters, context, _executemany):
    options = context.execution_options
    if not options.get(BEGIN_BEFORE_WRITING) or options.get(ALONE) or options.get("isolation_level") == "AUTOCOMMIT":
        return  # not the hub's engine; a statement alone; a connection that asked for autocommit (VACUUM)
    driver = cursor.connection
    if not isinstance(driver, PsycopgConnection) or not driver.autocommit:
        return  # SQLite, or a connection psycopg begins transactions on itself
    if driver.info.transaction_status != TransactionStatus.IDLE or _postgresql_reads_only(statement, context):
        return
    driver.execute("BEGIN")


# What a SELECT that writes says: an INSERT, UPDATE or DELETE in a WITH (as SQLAlchemy writes them).
_WRITES_IN_A_SELECT = ("INSERT INTO", "UPDATE ", "DELETE FROM")


def _postgresql_reads_only(sql: str, context) -> bool:
    """A SELECT that SQLAlchemy built, without FOR UPDATE / FOR SHARE and without a write in a WITH."""
    statement = getattr(getattr(context, "compiled", None), "statement", None)
    return (isinstance(statement, GenerativeSelect) and statement._for_update_arg is None
            and not any(write in sql for write in _WRITES_IN_A_SELECT))


# --- SQLite ----------------------------------------------------------------------------------------

@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection, _record):
    """SQLite: WAL, foreign keys, a busy timeout, and transactions we begin ourselves."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None  # the driver begins nothing: the write lock is taken below
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# What SQLite may run outside a transaction: statements that only read (FOR UPDATE aside, below).
_SQLITE_READS = ("SELECT", "PRAGMA", "EXPLAIN")


@event.listens_for(Engine, "before_cursor_execute")
def _sqlite_lock_before_writing(connection, cursor, statement, _parameters, context, _executemany):
    """SQLite: take the write lock (BEGIN IMMEDIATE) just before a transaction's first write, so that
    concurrent writers wait for each other (busy_timeout) instead of failing with "database is locked"
    halfway through, and hold it only while writing.

    SQLite has one write lock for the whole database. Taken when a request's transaction began (its
    token check), it was held through all of the request's Python work, and every worker waited for
    it in turn: 2 gunicorn workers handed over no more handoffs per second than one (45 % of the CPU
    idle, bench/run.py). Reads before the first write now run as single statements, each seeing what is
    committed (as PostgreSQL's READ COMMITTED does); a read that must hold its rows until the write
    says FOR UPDATE, which SQLite cannot say: it takes the lock first. Lost updates are refused as on
    PostgreSQL: by the version columns of handoffs and service referrals (409), unique keys, and
    conditional UPDATEs."""
    if connection.dialect.name != "sqlite":
        return
    driver_connection = cursor.connection
    if driver_connection.in_transaction or _sqlite_reads_only(statement, context):
        return
    begin_writing(driver_connection)


SQLITE_BUSY_TIMEOUT_MS = 15_000


def begin_writing(driver_connection: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, waiting for the write lock in short steps (50 us, growing to 1 ms) for up to
    busy_timeout. SQLite's own busy handler sleeps 1, 2, 5, 10, 15 ms... between tries: a worker that
    found the lock held for half a millisecond slept a millisecond or more, while the other worker
    had long let go of it (bench/run.py: 15 % of the CPU idle under two workers)."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    delay = 0.00005
    driver_connection.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                driver_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 1.5, 0.001)
    finally:
        driver_connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


def _sqlite_reads_only(statement: str, context) -> bool:
    compiled = getattr(context, "compiled", None)
    if compiled is not None and getattr(compiled.statement, "_for_update_arg", None) is not None:
        return False
    return statement.lstrip()[:7].upper().startswith(_SQLITE_READS)


class SqliteStatement:
    """A statement compiled once and run on SQLite's own cursor, its parameters processed as SQLAlchemy
    would (each one by its type: times, enums, JSON, sealed text). What SQLAlchemy adds to every
    execution (a context, events, a result object) costs ~0.1 ms of CPU a statement: a fifth of a
    handoff's CPU on SQLite, which runs eight (bench/run.py). For hot paths only; a write takes the
    write lock first, as every other write does (`_sqlite_lock_before_writing`).

    The parameters come from a dict by their names; where the dict has no value, the column's scalar
    default is used (`defaults`), else None."""

    def __init__(self, statement, defaults: dict | None = None, writes: bool = True):
        self.statement, self.defaults, self.writes = statement, defaults or {}, writes
        self._prepared: tuple | None = None

    @classmethod
    def inserting(cls, table) -> SqliteStatement:
        """An INSERT of a row into the table: every column but its id, each from the row by its name, or
        its scalar default, or NULL."""
        columns = [column for column in table.columns if column.name != "id"]
        defaults = {column.name: column.default.arg for column in columns
                    if column.default is not None and column.default.is_scalar}
        return cls(insert(table).values({column.name: bindparam(column.name, type_=column.type)
                                         for column in columns}), defaults)

    def _prepare(self, dialect) -> tuple:
        compiled = self.statement.compile(dialect=dialect)
        positions = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if bind.value is None and bind.callable is None:  # given with each execution
                positions.append((name, self.defaults.get(name), process))
            else:  # a constant of the statement
                value = bind.effective_value
                positions.append((None, process(value) if process else value, None))
        self._prepared = (str(compiled), positions)
        return self._prepared

    def _values(self, positions, parameters: dict) -> tuple:
        values = []
        for name, default, process in positions:
            if name is None:
                values.append(default)
                continue
            value = parameters.get(name, default)
            values.append(process(value) if process else value)
        return tuple(values)

    def _cursor(self, connection) -> tuple:
        driver = connection.connection.driver_connection
        sql, positions = self._prepared or self._prepare(connection.dialect)
        if self.writes and not driver.in_transaction:
            begin_writing(driver)
        return driver, sql, positions

    def execute(self, connection, parameters: dict) -> sqlite3.Cursor:
        """Run once on the SQLAlchemy connection's own driver connection, in its transaction."""
        with _as_sqlalchemy_errors():
            driver, sql, positions = self._cursor(connection)
            return driver.execute(sql, self._values(positions, parameters))

    def executemany(self, connection, rows: list[dict]) -> None:
        with _as_sqlalchemy_errors():
            driver, sql, positions = self._cursor(connection)
            driver.executemany(sql, [self._values(positions, row) for row in rows])


# SQLite's "busy" and "locked": the write lock not had within the busy timeout.
_SQLITE_WAITED_IN_VAIN = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}


def database_out_of_reach(error: BaseException) -> bool:
    """The database could not be reached, or not in time: worth a 503 and a try again (hub.http). A
    connection broken under the request; on PostgreSQL any OperationalError (refused, shutting down,
    cut); on SQLite only its write lock not had in time. SQLite also calls a missing table or a
    malformed statement "operational": those are faults of the hub, answered 500 and logged."""
    if not isinstance(error, exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    if not isinstance(error, exc.OperationalError):
        return False
    if isinstance(error.orig, sqlite3.Error):
        code = getattr(error.orig, "sqlite_errorcode", None)
        return code is not None and code & 0xFF in _SQLITE_WAITED_IN_VAIN  # extended codes: their low byte
    return True


@contextmanager
def _as_sqlalchemy_errors():
    """The driver's errors as SQLAlchemy raises them (without the parameters), so that they are
    answered as any other: the write lock not had in time is a 503 to try again (hub.http)."""
    try:
        yield
    except sqlite3.Error as error:
        raise exc.DBAPIError.instance(None, None, error, sqlite3.Error, hide_parameters=True) from error
