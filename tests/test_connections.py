"""Database connections that died while the hub was quiet are replaced before a request meets them;
one that dies under a request answers 503 with nothing saved, and the next request finds a fresh one."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from hub import connections
from tests.conftest import TEST_DATABASE_URL
from tests.factories import handoff_body
from tests.test_errors_and_headers import assert_api_error

postgresql_only = pytest.mark.skipif(not TEST_DATABASE_URL, reason="a SQLite file has no connection to lose")


def _pg_engine(**options):
    return create_engine(TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1), **options)


@pytest.fixture
def engine():
    engine = _pg_engine(pool_size=1)
    yield engine
    engine.dispose()


@pytest.fixture
def handing_over(make, api_login):
    """A referrer's headers and an exit programme to hand a client over to."""
    return api_login(make.user("referrer")), make.organisation("exit_programme")


def _backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _terminate(pid: int) -> None:
    admin = _pg_engine()
    with admin.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    admin.dispose()


@postgresql_only
def test_an_idle_connection_cut_by_the_server_is_replaced_before_use(engine, monkeypatch):
    before = _backend_pid(engine)
    _terminate(before)
    monkeypatch.setattr(connections, "PING_AFTER_IDLE", 0.0)  # as if it had sat idle for a while
    after = _backend_pid(engine)
    assert after != before


@postgresql_only
def test_a_connection_in_steady_use_is_not_pinged_and_a_dead_one_fails_once(engine):
    before = _backend_pid(engine)
    _terminate(before)  # checked in a moment ago: the pool trusts it
    with pytest.raises(DBAPIError) as failure, engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    assert failure.value.connection_invalidated
    assert _backend_pid(engine) != before  # the pool let go of it: the next use connects afresh


@pytest.mark.parametrize("failure, invalidated", [
    ("server closed the connection unexpectedly", True),
    ("connection failed: FATAL:  the database system is shutting down", False),
])
def test_a_request_whose_database_is_unreachable_answers_503_and_saves_nothing(
        client, handing_over, monkeypatch, failure, invalidated):
    headers, programme = handing_over

    def connection_lost(*_args, **_kwargs):
        raise OperationalError("INSERT INTO clients ...", {}, Exception(failure), connection_invalidated=invalidated)

    monkeypatch.setattr("hub.referrals.service.handoff_writes.write", connection_lost)
    response = client.post("/api/v1/referrals", json=handoff_body(programme), headers=headers)
    assert_api_error(response, 503, "database_unavailable")
    assert response.headers["Retry-After"] == "1"
    assert client.get("/api/v1/referrals", headers=headers).get_json()["items"] == []


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="SQLite's write lock")
def test_a_handoff_that_cannot_get_sqlites_write_lock_in_time_answers_503_and_saves_nothing(
        client, handing_over, monkeypatch):
    """The handoff writes on the driver's own cursor (hub.connections.SqliteStatement); its errors are
    answered as SQLAlchemy's are."""
    import sqlite3

    headers, programme = handing_over

    def locked(_statement, _connection):  # as begin_writing gives up after the busy timeout
        error = sqlite3.OperationalError("database is locked")
        error.sqlite_errorcode = sqlite3.SQLITE_BUSY  # as SQLite sets it
        raise error

    monkeypatch.setattr(connections.SqliteStatement, "_cursor", locked)
    response = client.post("/api/v1/referrals", json=handoff_body(programme), headers=headers)
    assert_api_error(response, 503, "database_unavailable")
    monkeypatch.undo()
    assert client.get("/api/v1/referrals", headers=headers).get_json()["items"] == []


def test_a_connection_lost_at_commit_answers_503_and_asks_to_check_before_sending_again(
        client, handing_over, monkeypatch):
    """The commit may or may not have reached the database: the answer does not claim nothing was saved."""
    from hub.extensions import db

    headers, programme = handing_over

    def lost(*_args, **_kwargs):
        raise OperationalError("COMMIT", {}, Exception("server closed the connection"), connection_invalidated=True)

    monkeypatch.setattr(db.session, "commit", lost)
    response = client.post("/api/v1/referrals", json=handoff_body(programme), headers={**headers,
                                                                                      "Accept-Language": "en"})
    error = assert_api_error(response, 503, "database_unavailable")
    assert response.headers["Retry-After"] == "1"
    assert "Check whether your change was saved" in error["message"]


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="SQLite's own error codes")
def test_a_fault_of_the_hub_that_sqlite_calls_operational_is_a_500_not_a_503(client, handing_over, monkeypatch):
    """A missing table or a malformed statement is not the database out of reach: no "try again", and
    it is logged as the fault it is."""
    headers, programme = handing_over

    def broken(_statement, connection):
        connection.connection.driver_connection.execute("SELECT * FROM no_such_table")

    monkeypatch.setattr(connections.SqliteStatement, "_cursor", broken)
    response = client.post("/api/v1/referrals", json=handoff_body(programme), headers=headers)
    assert_api_error(response, 500, "internal_error")
    assert "Retry-After" not in response.headers


def test_a_refused_request_whose_reads_cannot_be_logged_answers_503_not_its_page(client, make, api_login,
                                                                                monkeypatch):
    """A 4xx answer writes its reads after the rollback (hub.audit.service.write_durable_events); when the
    database is out of reach by then, the page does not go out without them: 503, as any such request."""
    import hub.http

    headers = api_login(make.user("admin"))

    def lost(*, keep_reads=False):
        raise OperationalError("INSERT INTO audit_events ...", {}, Exception("server closed the connection"),
                               connection_invalidated=True)

    monkeypatch.setattr(hub.http, "write_durable_events", lost)
    response = client.post("/api/v1/organisations", json={"name": ""}, headers=headers)
    assert_api_error(response, 503, "database_unavailable")
