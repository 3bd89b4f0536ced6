"""PostgreSQL: a request opens a transaction only once it writes, and all its writes are in it; the
handoff's one statement is a transaction by itself (hub/connections.py)."""
from __future__ import annotations

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import create_engine, event, func, insert, select, text

from hub.connections import ALONE
from hub.extensions import db
from hub.partners.models import Organisation
from hub.referrals.models import Client, Handoff
from tests.conftest import TEST_DATABASE_URL, totp_now
from tests.factories import Factory, handoff_body

pytestmark = [pytest.mark.skipif(not TEST_DATABASE_URL, reason="SQLite's transactions are hub/connections.py's "
                                                              "other half (tests/test_sqlite_write_lock.py)"),
              pytest.mark.committed]  # on the hub's own engine, not in a transaction that is rolled back

IDLE, IN_TRANSACTION = TransactionStatus.IDLE, TransactionStatus.INTRANS


def _status(connection) -> TransactionStatus:
    return connection.connection.driver_connection.info.transaction_status


def _new_organisation(name: str):
    return insert(Organisation).values(name=name, kind="housing", municipality="Utrecht")


@pytest.fixture
def connection(app):
    """A connection of the hub's own engine; what a test writes, it rolls back or deletes."""
    with app.app_context(), db.engines[None].connect() as connection:
        yield connection


def test_reads_run_without_a_transaction(connection):
    connection.execute(select(func.count()).select_from(Organisation))
    connection.execute(select(Organisation.id).limit(1).union_all(select(Organisation.id).limit(1)))
    assert _status(connection) == IDLE


@pytest.mark.parametrize("statement", [
    pytest.param(select(Organisation.id).limit(1).with_for_update(), id="select for update"),
    pytest.param(text("SELECT set_config('enable_seqscan', 'off', true)"), id="a textual statement"),
    pytest.param(select(insert(Organisation).values(name="Via WITH", kind="housing", municipality="Utrecht")
                        .returning(Organisation.id).cte("made").c.id), id="a select with a write in a WITH"),
])
def test_a_statement_that_must_hold_until_the_end_begins_the_transaction(connection, statement):
    connection.execute(statement)
    assert _status(connection) == IN_TRANSACTION
    connection.rollback()


def test_a_connection_that_asks_for_autocommit_gets_it_even_for_vacuum(connection):
    connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM organisations"))
    assert _status(connection) == IDLE


def test_a_requests_writes_after_its_reads_commit_or_roll_back_together(app, connection):
    connection.execute(select(func.count()).select_from(Organisation))
    connection.execute(_new_organisation("Eerste"))
    assert _status(connection) == IN_TRANSACTION
    connection.execute(_new_organisation("Tweede"))
    connection.rollback()
    assert _status(connection) == IDLE
    names = connection.scalars(select(Organisation.name).where(Organisation.name.in_(["Eerste", "Tweede"])))
    assert list(names) == []


def test_a_statement_alone_is_written_at_once_without_a_transaction(app, connection):
    try:
        connection.execute(_new_organisation("Alleen").execution_options(**{ALONE: True}))
        assert _status(connection) == IDLE  # already committed: nothing to roll back
        connection.rollback()
        with db.engines[None].connect() as other:
            assert other.scalar(select(func.count()).where(Organisation.name == "Alleen")) == 1
    finally:
        connection.execute(Organisation.__table__.delete().where(Organisation.name == "Alleen"))
        connection.commit()


def test_a_statement_alone_joins_a_transaction_already_open(app, connection):
    connection.execute(_new_organisation("Eerst"))
    connection.execute(_new_organisation("Daarna").execution_options(**{ALONE: True}))
    connection.rollback()
    assert connection.scalar(select(func.count()).where(Organisation.name.in_(["Eerst", "Daarna"]))) == 0


def test_a_connection_that_only_reads_keeps_its_prepared_statements(app):
    """psycopg forgets every prepared statement at a ROLLBACK: a request that only read ended with one."""
    with app.app_context():
        url = db.engine.url
    engine = create_engine(url, pool_size=1, **app.config["SQLALCHEMY_ENGINE_OPTIONS"])  # the hub's, one connection
    try:
        for _request in range(6):  # psycopg prepares a statement at its fifth run
            with engine.connect() as connection:
                connection.execute(select(Organisation.id).where(Organisation.name == "Nergens"))
        with engine.connect() as connection:
            prepared = connection.scalar(text("SELECT count(*) FROM pg_prepared_statements"))
    finally:
        engine.dispose()
    assert prepared >= 1


def test_a_handoff_is_written_by_one_statement_with_no_transaction_around_it(isolated_app):
    """Token check and write: two round trips, no BEGIN and no COMMIT; and all of it is there."""
    app = isolated_app
    make = Factory(app)
    referrer, programme = make.user("referrer"), make.organisation("exit_programme")
    make.user("coach", organisation_id=programme)
    client = app.test_client()
    token = client.post("/api/v1/auth/login", json={"email": referrer.email, "password": referrer.password,
                                                    "otp": totp_now(referrer)}).get_json()["token"]
    statuses = []

    def note_status(_connection, cursor, *_args):
        statuses.append(cursor.connection.info.transaction_status)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "after_cursor_execute", note_status)
    try:
        response = client.post("/api/v1/referrals", json=handoff_body(programme),
                               headers={"Authorization": f"Bearer {token}"})
    finally:
        event.remove(engine, "after_cursor_execute", note_status)
    assert response.status_code == 201, response.get_json()
    assert statuses == [IDLE, IDLE]  # the token check, then the handoff
    with app.app_context():
        handoff = db.session.get(Handoff, response.get_json()["id"])
        assert handoff.client.programme_id == programme and handoff.consent.recipient_organisation_id == programme
        assert db.session.scalar(select(func.count()).select_from(Client)) == 1
