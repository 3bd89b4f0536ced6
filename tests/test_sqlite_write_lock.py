"""SQLite has one write lock for the whole database: a transaction takes it just before its first
write (or a read FOR UPDATE), not when it begins, so a request's reading and Python work never keep
another writer waiting."""
import sqlite3

import pytest
from sqlalchemy import insert, select

from hub.audit.models import AuditEvent
from hub.extensions import db
from hub.partners.models import Organisation
from tests.conftest import TEST_DATABASE_URL

pytestmark = pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="SQLite's write lock")


def another_writer_may_begin(app) -> bool:
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:  # database is locked
        return False
    finally:
        other.close()


def test_reading_leaves_the_write_lock_free_and_the_first_write_takes_it(isolated_app):
    with isolated_app.app_context():
        db.session.execute(select(Organisation.id)).all()
        assert another_writer_may_begin(isolated_app)
        db.session.execute(insert(AuditEvent.__table__).values(tag="test:lock:taken", action="create",
                                                               result="success"))
        assert not another_writer_may_begin(isolated_app)
        db.session.rollback()
        assert another_writer_may_begin(isolated_app)


def test_a_read_for_update_takes_the_write_lock_first(isolated_app):
    """SQLite cannot say FOR UPDATE: the rows read stay as read until the commit because no one else
    may write meanwhile."""
    with isolated_app.app_context():
        db.session.execute(select(Organisation.id).with_for_update()).all()
        assert not another_writer_may_begin(isolated_app)
        db.session.rollback()
