"""The test harness: one app and one migrated database per run; each test rolls back.

The database is a real SQLite file, or the PostgreSQL server named by HUB_TEST_DATABASE_URL.
Tests marked `committed` (concurrency) commit for real; the `committed` fixture clears what
they wrote afterwards (except the audit trail, which the database refuses to delete).
"""
from __future__ import annotations

import os
from datetime import UTC, datetime

import pyotp
import pytest
from argon2 import PasswordHasher
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

import hub.auth.passwords as passwords
from config import Config
from hub import clock, create_app
from hub.extensions import db
from tests.factories import Factory

TEST_DATABASE_URL = os.environ.get("HUB_TEST_DATABASE_URL")
NOW = datetime(2026, 11, 23, 9, 0, 5, tzinfo=UTC)  # a Monday morning, 5 s into a TOTP step


def pytest_report_header():
    return f"hub database: {'PostgreSQL ' + TEST_DATABASE_URL if TEST_DATABASE_URL else 'SQLite file'}"


def _reset_postgresql(url: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    if TEST_DATABASE_URL:
        _reset_postgresql(TEST_DATABASE_URL)
    config = Config(env="test", testing=True, instance_path=str(instance),
                    database_url=TEST_DATABASE_URL or f"sqlite:///{instance}/hub-test.sqlite3")
    application = create_app(config)
    # argon2id still, with test-sized cost: hundreds of accounts are made per run.
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    passwords._DUMMY_HASH = passwords._hasher.hash("dummy")
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def database(app, request):
    """Each test runs inside a transaction that is rolled back; commits become savepoints."""
    clock.freeze(NOW)
    if "committed" in request.keywords:
        yield
        clock.freeze(None)
        return
    with app.app_context():
        engines = db.engines  # Flask-SQLAlchemy binds sessions through this mapping
    engine = engines[None]
    connection = engine.connect()
    transaction = connection.begin()
    real_session = db.session
    engines[None] = connection
    db.session = db._make_scoped_session({"join_transaction_mode": "create_savepoint"})
    try:
        yield  # no app context is held here: each request gets its own, with a fresh `g`
    finally:
        with app.app_context():
            db.session.remove()
        db.session = real_session
        engines[None] = engine
        transaction.rollback()
        connection.close()
        clock.freeze(None)


# Tables whose rows the database refuses to delete. A `committed` test must not write consents
# (nor clients, which they reference).
PERMANENT_TABLES = {"audit_events", "audit_event_subjects", "consents", "consent_scope"}


@pytest.fixture
def committed(app):
    """For tests that need real commits (several connections at once); cleans up after."""
    yield
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                if table.name not in PERMANENT_TABLES:
                    connection.execute(table.delete())


@pytest.fixture
def isolated_app(tmp_path):
    """A hub with a database of its own, committed for real and thrown away afterwards: for tests
    of several processes or connections at once (sweeps racing, crashes)."""
    name = f"hub_isolated_{os.getpid()}_{tmp_path.name[-12:].replace('-', '_')}".lower()
    if TEST_DATABASE_URL:
        server = TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1)
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = TEST_DATABASE_URL.rsplit("/", 1)[0] + f"/{name}"
    else:
        url = f"sqlite:///{tmp_path}/isolated.sqlite3"
    application = create_app(Config(env="test", testing=True, instance_path=str(tmp_path), database_url=url))
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()
    if TEST_DATABASE_URL:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make(app):
    return Factory(app)


def totp_now(user_or_secret, at: datetime | None = None, steps: int = 0) -> str:
    secret = getattr(user_or_secret, "secret", user_or_secret)
    moment = (at or clock.utcnow()).timestamp() + steps * 30
    return pyotp.TOTP(secret).at(moment)


@pytest.fixture
def api_login(client):
    """Sign a factory-made user in through the API; returns the headers to send."""
    def login(account, steps: int = 0) -> dict:
        response = client.post("/api/v1/auth/login", json={
            "email": account.email, "password": account.password, "otp": totp_now(account, steps=steps)})
        assert response.status_code == 200, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}
    return login
