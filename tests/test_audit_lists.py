"""Every list read of client data (inboxes, queues, overviews, escalations; API and web) writes one
audit event (`search`: who, which filter, which page) naming the records shown, in one bulk INSERT;
the clients shown find it in their read log; retention and the append-only rule hold for it."""
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from hub import clock
from hub.audit.models import AuditAction, AuditEvent, AuditEventSubject
from hub.audit.service import record_list
from hub.extensions import db
from hub.referrals.models import Client
from hub.referrals.service_referral_models import Escalation, ServiceReferral, Status
from hub.rights.jobs import remove_old_audit_events
from tests.conftest import NOW
from tests.web import next_step, signed_in

LISTED = "referrals:service_referrals:listed"


@pytest.fixture
def chain(make, client, api_login):
    """A programme's coach with three accepted clients, each referred to the same debt-relief partner
    (consent: finances); a referrer's handoff waiting in the queue; signed-in headers for all."""
    programme = make.organisation("exit_programme", name="Uitstapprogramma Lijst")
    coach = make.user("coach", organisation_id=programme)
    referrer = make.user("referrer")
    partner_org = make.organisation("debt_relief", name="Schuldhulp Lijst")
    partner = make.user("partner", organisation_id=partner_org)
    coach_headers = api_login(coach)
    clients, referrals = [], []
    for _ in range(3):
        handoff_id, client_id = make.handoff(programme_id=programme, referrer=referrer)
        assert client.post(f"/api/v1/referrals/{handoff_id}/accept", json={}, headers=coach_headers).status_code == 200
        assert client.post(f"/api/v1/clients/{client_id}/consents", headers=coach_headers, json={
            "recipient_organisation_id": partner_org, "purpose": "service_referral", "scope": ["finances"],
            "method": "written", "statement": "Schuldhulp mag mijn financiën zien."}).status_code == 201
        referral = client.post(f"/api/v1/clients/{client_id}/service-referrals", headers=coach_headers,
                               json={"organisation_id": partner_org, "domain": "finances"})
        clients.append(client_id)
        referrals.append(referral.get_json()["id"])
    waiting_handoff, waiting_client = make.handoff(programme_id=programme, referrer=referrer)
    return {"coach": coach, "partner": partner, "referrer": referrer, "clients": clients, "referrals": referrals,
            "waiting_handoff": waiting_handoff, "waiting_client": waiting_client, "coach_headers": coach_headers,
            "partner_headers": api_login(partner), "referrer_headers": api_login(referrer)}


def web_as(app, account):
    """A browser signed in as `account` (with the next TOTP code: the API sign-in used this one)."""
    next_step()
    web = app.test_client()
    signed_in(web, account)
    return web


def _new_list_events(app, after: int) -> list[AuditEvent]:
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.id > after,
                                                             AuditEvent.action == AuditAction.SEARCH)).all()
        for row in events:
            subjects = db.session.execute(select(AuditEventSubject.object_id, AuditEventSubject.client_id)
                                          .where(AuditEventSubject.event_id == row.id)).all()
            row.shown = sorted(tuple(subject) for subject in subjects)
        db.session.expunge_all()
        return events


def _last_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.max(AuditEvent.id))) or 0


def test_the_partners_inbox_writes_one_event_naming_the_referrals_and_clients_shown(app, client, chain):
    last = _last_id(app)
    response = client.get("/api/v1/service-referrals?status=requested&per_page=2", headers=chain["partner_headers"])
    assert response.status_code == 200 and len(response.get_json()["items"]) == 2
    [listed] = _new_list_events(app, last)
    assert listed.tag == LISTED and listed.object_type == "service_referral"
    assert listed.user_id == chain["partner"].id and listed.ground == "role:partner"
    assert listed.detail == "open=False status=requested page=1 per_page=2 shown=2"
    by_id = dict(zip(chain["referrals"], chain["clients"], strict=True))
    assert listed.shown == sorted((str(item["id"]), by_id[item["id"]]) for item in response.get_json()["items"])


def test_the_next_page_is_its_own_event(app, client, chain):
    last = _last_id(app)
    client.get("/api/v1/service-referrals?per_page=2&page=2", headers=chain["partner_headers"])
    [listed] = _new_list_events(app, last)
    assert "page=2 per_page=2 shown=1" in listed.detail and len(listed.shown) == 1


def test_an_empty_list_is_recorded_too(app, client, chain):
    """A search is logged whatever it finds: who looked for what."""
    last = _last_id(app)
    client.get("/api/v1/service-referrals?status=completed", headers=chain["coach_headers"])
    [listed] = _new_list_events(app, last)
    assert listed.shown == [] and "status=completed" in listed.detail


@pytest.mark.parametrize(("who", "path", "tag", "object_type"), [
    ("coach_headers", "/api/v1/service-referrals", LISTED, "service_referral"),
    ("coach_headers", "/api/v1/referrals?status=submitted", "referrals:handoffs:listed", "handoff"),
    ("referrer_headers", "/api/v1/referrals", "referrals:handoffs:listed", "handoff"),
])
def test_every_api_list_of_client_data_is_audited(app, client, chain, who, path, tag, object_type):
    last = _last_id(app)
    response = client.get(path, headers=chain[who])
    assert response.status_code == 200 and response.get_json()["items"]
    [listed] = _new_list_events(app, last)
    assert (listed.tag, listed.object_type) == (tag, object_type)
    items = response.get_json()["items"]
    assert {object_id for object_id, _client in listed.shown} == {str(item["id"]) for item in items}
    assert all(client_id is not None for _object, client_id in listed.shown)


def _escalate(app, chain) -> int:
    with app.app_context():
        referral = db.session.get(ServiceReferral, chain["referrals"][0])
        row = Escalation(service_referral_id=referral.id, client_id=referral.client_id,
                         organisation_id=referral.organisation_id, episode=1, level=1, status=Status.REQUESTED,
                         raised_at=NOW)
        db.session.add(row)
        db.session.commit()
        return row.id


def test_the_escalation_list_is_audited_in_the_api_and_on_the_web(app, client, chain):
    escalation_id = _escalate(app, chain)
    last = _last_id(app)
    assert client.get("/api/v1/escalations", headers=chain["partner_headers"]).status_code == 200
    web = web_as(app, chain["coach"])
    assert web.get("/escalations").status_code == 200
    events = _new_list_events(app, last)
    assert [e.tag for e in events] == ["referrals:escalations:listed"] * 2
    assert all(e.shown == [(str(escalation_id), chain["clients"][0])] for e in events)


@pytest.mark.parametrize(("who", "page", "tag", "shown"), [
    ("partner", "/service-referrals?status=all", LISTED, "referrals"),  # the partner's inbox
    ("coach", "/service-referrals?status=all", LISTED, "referrals"),  # the coach's overview
    ("coach", "/handoffs", "referrals:handoffs:listed", "waiting_handoff"),  # the intake queue
    ("referrer", "/handoffs", "referrals:handoffs:listed", "handoffs"),  # the referrer's own handoffs
])
def test_every_web_list_of_client_data_is_audited(app, chain, who, page, tag, shown):
    web = web_as(app, chain[who])
    last = _last_id(app)
    assert web.get(page).status_code == 200
    [listed] = _new_list_events(app, last)
    assert listed.tag == tag and listed.user_id == chain[who].id
    expected = {"referrals": chain["referrals"], "waiting_handoff": [chain["waiting_handoff"]]}.get(shown)
    if expected is not None:
        assert {object_id for object_id, _client in listed.shown} == {str(i) for i in expected}
    else:
        assert len(listed.shown) == 4  # three accepted and one waiting


def test_the_coachs_refer_on_page_audits_the_clients_open_referrals_it_shows(app, chain):
    web = web_as(app, chain["coach"])
    last = _last_id(app)
    assert web.get(f"/clients/{chain['clients'][0]}/service-referrals/new").status_code == 200
    [listed] = _new_list_events(app, last)
    assert listed.shown == [(str(chain["referrals"][0]), chain["clients"][0])]


def test_a_refused_list_writes_no_list_event(app, client, chain):
    last = _last_id(app)
    assert client.get("/api/v1/service-referrals", headers=chain["referrer_headers"]).status_code == 403
    assert _new_list_events(app, last) == []


@contextmanager
def freeze_at(moment):
    clock.freeze(moment)
    try:
        yield
    finally:
        clock.freeze(NOW)


class _Inserts:
    """Counts the INSERT statements into the audit tables while a request runs."""

    def __init__(self):
        self.statements: list[str] = []

    def __call__(self, conn, _cursor, statement, _parameters, _context, _executemany):
        if "INSERT INTO AUDIT_EVENT" in statement.upper():
            self.statements.append(statement)
            self.dialect = conn.dialect.name


def test_a_page_is_one_insert_per_audit_table_however_many_rows(app, client, chain):
    """On PostgreSQL the event and its subjects are even one statement (the event's INSERT in a WITH)."""
    inserts = _Inserts()
    event.listen(Engine, "before_cursor_execute", inserts)
    try:
        assert client.get("/api/v1/service-referrals", headers=chain["partner_headers"]).status_code == 200
    finally:
        event.remove(Engine, "before_cursor_execute", inserts)
    if inserts.dialect == "postgresql":
        [statement] = inserts.statements
        assert "INSERT INTO audit_events" in statement and "INSERT INTO audit_event_subjects" in statement
    else:
        assert sorted(s.split("(")[0].strip() for s in inserts.statements) == [
            "INSERT INTO audit_event_subjects", "INSERT INTO audit_events"]


# --- the client's read log ------------------------------------------------------------------------

def test_the_client_sees_in_the_read_log_that_they_appeared_in_a_partners_inbox(app, client, chain):
    client.get("/api/v1/service-referrals", headers=chain["partner_headers"])
    client_id = chain["clients"][1]
    log = client.get(f"/api/v1/clients/{client_id}/read-log?lang=en&per_page=100", headers=chain["coach_headers"])
    texts = [entry["text"] for entry in log.get_json()["items"]]
    assert "Schuldhulp Lijst (chain partner) saw a referral to a service partner in a list." in texts
    entry = next(e for e in log.get_json()["items"] if e["text"].startswith("Schuldhulp Lijst (chain partner) saw"))
    assert entry["action"] == "search" and entry["ground"]["kind"] == "role"


def test_a_client_not_shown_does_not_find_the_list_in_their_read_log(app, client, chain):
    client.get("/api/v1/service-referrals", headers=chain["partner_headers"])
    log = client.get(f"/api/v1/clients/{chain['waiting_client']}/read-log?lang=en&per_page=100",
                     headers=chain["coach_headers"])  # a client with no referral: not in the partner's inbox
    assert log.status_code == 200
    assert not any(entry["text"].startswith("Schuldhulp Lijst") for entry in log.get_json()["items"])


def test_the_admins_audit_log_filtered_by_client_finds_the_list_reads(app, client, chain, make):
    client.get("/api/v1/service-referrals", headers=chain["partner_headers"])
    web = app.test_client()
    signed_in(web, make.user("admin"))
    page = web.get(f"/audit?client_id={chain['clients'][2]}").get_data(as_text=True)
    assert LISTED in page


# --- retention and the append-only rule ----------------------------------------------------------------

def _old_list_event(client_ids: list[int], years: int = 7) -> int:
    with freeze_at(NOW - timedelta(days=years * 365)):
        event_id = record_list(LISTED, object_type="service_referral", shown=list(enumerate(client_ids)),
                               filters={}, page=1, per_page=25)
    db.session.commit()
    return event_id


def test_retention_removes_old_list_reads_with_their_subjects_except_for_a_held_client(app, chain):
    held, other = chain["clients"][0], chain["clients"][1]
    with app.app_context():
        db.session.get(Client, held).legal_hold_since = NOW
        db.session.commit()
        removable, kept = _old_list_event([other]), _old_list_event([other, held])
        remove_old_audit_events(NOW, 5)
        assert db.session.get(AuditEvent, removable) is None
        assert db.session.scalar(select(func.count()).where(AuditEventSubject.event_id == removable)) == 0
        assert db.session.get(AuditEvent, kept) is not None


@pytest.mark.parametrize("statement", [
    "UPDATE audit_event_subjects SET client_id = NULL WHERE event_id = :young",
    "DELETE FROM audit_event_subjects WHERE event_id = :young",
    "DELETE FROM audit_event_subjects WHERE event_id = :held",
])
def test_the_database_refuses_to_change_or_remove_subjects_retention_does_not_allow(app, chain, statement):
    with app.app_context():
        db.session.get(Client, chain["clients"][0]).legal_hold_since = NOW
        db.session.commit()
        ids = {"young": _old_list_event([chain["clients"][1]], years=1),
               "held": _old_list_event([chain["clients"][0]])}
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement), ids)
        db.session.rollback()
