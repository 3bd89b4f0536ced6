"""The audit trail: append-only in the database itself, written for sign-ins and refusals, readable
by admins with filters."""
import re

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from hub.audit.models import AuditAction, AuditEvent, AuditResult
from hub.audit.service import record
from hub.extensions import db
from tests.conftest import NOW, totp_now
from tests.web import post_form, signed_in

ROW = re.compile(r'<tr class="(success|refused|error)">\s*<td>[^<]*</td><td>([^<]+)</td>')


@pytest.fixture
def event_id(app):
    """One audit event, written as the hub writes them."""
    with app.test_request_context():
        event = record("test:thing:read", AuditAction.READ, object_type="thing", object_id=7)
        db.session.commit()
        return event.id


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET detail = 'changed' WHERE id = :id",
    "UPDATE audit_events SET result = 'success'",
    "DELETE FROM audit_events WHERE id = :id",
    "DELETE FROM audit_events",
])
def test_the_database_refuses_to_change_or_remove_audit_events(app, event_id, statement):
    with app.app_context():
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement), {"id": event_id})
        db.session.rollback()
        event = db.session.get(AuditEvent, event_id)
        assert event is not None
        assert event.detail is None


@pytest.mark.parametrize("statement", ["TRUNCATE audit_events CASCADE", "TRUNCATE audit_event_subjects"])
def test_postgresql_refuses_to_truncate_the_audit_events(app, event_id, statement):
    """(A plain TRUNCATE audit_events is refused by the subjects' foreign key before the trigger.)"""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("TRUNCATE exists on PostgreSQL only")
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
        assert db.session.get(AuditEvent, event_id) is not None


def test_the_database_refuses_to_change_an_audit_event_through_the_orm_too(app, event_id):
    with app.app_context():
        db.session.get(AuditEvent, event_id).tag = "test:thing:forged"
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.commit()
        db.session.rollback()
        assert db.session.get(AuditEvent, event_id).tag == "test:thing:read"


def _events_after(app, last_id: int) -> list[AuditEvent]:
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id)).all()


def _last_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.max(AuditEvent.id))) or 0


def test_a_sign_in_is_recorded_with_who_when_and_from_where(app, make, client):
    coach = make.user("coach")
    last = _last_id(app)
    client.post("/api/v1/auth/login", json={"email": coach.email, "password": coach.password,
                                            "otp": totp_now(coach)}, environ_base={"REMOTE_ADDR": "192.0.2.44"})
    [event] = [e for e in _events_after(app, last) if e.tag == "auth:session:created"]
    assert event.result is AuditResult.SUCCESS
    assert event.action is AuditAction.CREATE
    assert (event.user_id, event.user_role, event.organisation_id) == (coach.id, "coach", coach.organisation_id)
    assert event.ground == "role:coach"
    assert event.source_address == "192.0.2.44"
    assert event.occurred_at == NOW
    assert event.occurred_at.utcoffset().total_seconds() == 0


def test_a_refused_sign_in_is_recorded_although_nothing_else_is_kept(app, make, client):
    coach = make.user("coach")
    last = _last_id(app)
    response = client.post("/api/v1/auth/login", json={"email": coach.email, "password": "not the password at all",
                                                       "otp": totp_now(coach)})
    assert response.status_code == 401
    [event] = _events_after(app, last)
    assert (event.tag, event.result) == ("auth:login:refused", AuditResult.REFUSED)
    assert event.user_id == coach.id
    assert event.source_address == "127.0.0.1"


def test_a_refused_sign_in_on_an_unknown_account_is_recorded_without_a_user(app, client):
    last = _last_id(app)
    client.post("/api/v1/auth/login", json={"email": "nobody@hub.test", "password": "whatever it is",
                                            "otp": "123456"})
    [event] = _events_after(app, last)
    assert (event.tag, event.result, event.user_id) == ("auth:login:refused", AuditResult.REFUSED, None)


def test_a_rate_limited_sign_in_is_recorded(app, make, client):
    coach = make.user("coach")
    for _ in range(5):
        client.post("/api/v1/auth/login", json={"email": coach.email, "password": "not the password at all",
                                                "otp": "123456"})
    last = _last_id(app)
    assert client.post("/api/v1/auth/login", json={"email": coach.email, "password": coach.password,
                                                   "otp": totp_now(coach)}).status_code == 429
    [event] = _events_after(app, last)
    assert (event.tag, event.result) == ("auth:login:rate_limited", AuditResult.REFUSED)


def test_a_web_sign_in_and_sign_out_are_recorded(app, make, client):
    coach = make.user("coach")
    last = _last_id(app)
    signed_in(client, coach)
    post_form(client, "/logout", {}, form_page="/")
    tags = [(e.tag, e.detail) for e in _events_after(app, last) if e.user_id == coach.id]
    assert ("auth:session:created", "web") in tags
    assert "auth:session:ended" in [tag for tag, _detail in tags]


def _rows(client, query: str) -> list[tuple[str, str]]:
    response = client.get(f"/audit?{query}")
    assert response.status_code == 200
    return ROW.findall(response.get_data(as_text=True))


def test_admins_filter_the_audit_log(app, make, client):
    coach = make.user("coach")
    other = app.test_client()
    other.post("/api/v1/auth/login", json={"email": coach.email, "password": "not the password at all",
                                           "otp": "123456"})
    other.post("/api/v1/auth/login", json={"email": coach.email, "password": coach.password,
                                           "otp": totp_now(coach)})
    signed_in(client, make.user("admin"))

    by_user = _rows(client, f"user_id={coach.id}")
    assert sorted(tag for _result, tag in by_user) == ["auth:login:refused", "auth:session:created"]
    assert ("refused", "auth:login:refused") in _rows(client, f"user_id={coach.id}&result=refused")
    assert _rows(client, f"user_id={coach.id}&result=refused") == [("refused", "auth:login:refused")]
    assert _rows(client, f"user_id={coach.id}&tag=auth:session") == [("success", "auth:session:created")]
    assert _rows(client, f"user_id={coach.id}&action=update") == []
    assert len(_rows(client, f"user_id={coach.id}&since=2026-11-23&until=2026-11-23")) == 2
    assert _rows(client, f"user_id={coach.id}&since=2026-11-24") == []
    assert _rows(client, f"user_id={coach.id}&until=2026-11-22") == []
    assert all(result == "refused" for result, _tag in _rows(client, "result=refused"))


def test_reading_the_audit_log_is_itself_recorded(app, make, client):
    admin = make.user("admin")
    signed_in(client, admin)
    last = _last_id(app)
    client.get("/audit?result=refused")
    assert [e.tag for e in _events_after(app, last)] == ["audit:log:searched"]
