"""Retention: the nightly job anonymises clients whose trajectories closed longer ago than the
retention period (the figures stay identical), never with an open or a recent trajectory or under a
legal hold; and it removes the audit trail after five years, which the database itself allows only
then, and not for a client under a legal hold."""
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from hub.audit.models import AuditAction, AuditEvent, AuditResult
from hub.extensions import db
from hub.jobs import JOBS, build_scheduler
from hub.referrals.models import Client, Handoff, Trajectory
from hub.rights import jobs
from hub.rights.jobs import apply_retention, months_before, remove_old_audit_events, years_before
from hub.rights.service import ANONYMISED
from tests.conftest import NOW
from tests.rights_support import SECRETS, figures, full_dossier, registration_report

IN_25_MONTHS = datetime(2028, 12, 24, 2, 0, tzinfo=UTC)


def _run(app, now: datetime) -> dict:
    with app.app_context():
        return apply_retention(now)


def _client(app, client_id: int) -> Client:
    with app.app_context():
        row = db.session.get(Client, client_id)
        db.session.expunge(row)
        return row


def _export(client, dossier) -> str:
    response = client.get(f"/api/v1/clients/{dossier.client_id}/export", headers=dossier.coach_headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_retention_job_is_registered_to_run_daily(app):
    function, trigger = JOBS["apply_retention"]
    assert function is apply_retention and trigger == {"days": 1}
    assert "apply_retention" in {job.id for job in build_scheduler(app).get_jobs()}


def test_calendar_arithmetic_of_the_periods():
    assert months_before(date(2028, 11, 23), 24) == date(2026, 11, 23)
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2026, 1, 15), 13) == date(2024, 12, 15)
    assert years_before(datetime(2028, 2, 29, tzinfo=UTC), 5) == datetime(2023, 2, 28, tzinfo=UTC)


def test_a_trajectory_closed_longer_ago_is_anonymised_and_the_figures_stay_the_same(app, client, make, api_login):
    dossier = full_dossier(client, make, api_login)
    assert all(secret in _export(client, dossier) for secret in SECRETS.values())
    with app.app_context():
        before, report = figures(), registration_report(dossier.programme)
    assert (report["inflow"], report["exited"], report["unique_clients"]) == (1, 1, 1)
    assert _run(app, IN_25_MONTHS)["anonymised"] == 1
    with app.app_context():
        assert registration_report(dossier.programme) == report
        assert figures() == before  # and what the other reports rest on
    exported = _export(client, dossier)
    left = [name for name, secret in SECRETS.items() if secret in exported]
    assert left == []
    anonymised = _client(app, dossier.client_id)
    assert anonymised.anonymised_at == IN_25_MONTHS
    with app.app_context():
        row = db.session.get(Client, dossier.client_id)
        assert (row.alias, row.story_summary, row.safe_contact) == (ANONYMISED, None, {})
        assert (row.birth_year, row.languages, row.municipality_of_residence) == (None, [], None)
        assert (row.gender.value, row.legal_status.value, row.target_groups) == (
            "female", "resident", ["trafficking_victim"])
        stored = db.session.execute(text("SELECT alias FROM clients WHERE id = :id"), {"id": row.id}).scalar()
        assert stored.startswith("v1:")  # the marker is encrypted like any alias
        [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.tag == "rights:retention:anonymised")).all()
        assert (event.client_id, event.user_id, event.ground) == (row.id, None, "retention")


def test_the_job_is_idempotent(app, client, make, api_login):
    full_dossier(client, make, api_login)
    assert _run(app, IN_25_MONTHS)["anonymised"] == 1
    assert _run(app, IN_25_MONTHS + timedelta(days=1))["anonymised"] == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(AuditEvent.tag == "rights:retention:anonymised")) == 1


def test_nothing_is_anonymised_before_the_period_has_passed(app, client, make, api_login):
    dossier = full_dossier(client, make, api_login)  # closed on NOW's day, 23 November 2026
    # in Dutch days: 23:59 on 23 November 2028 is exactly 24 months; a minute later the 24th has begun
    assert _run(app, datetime(2028, 11, 23, 22, 59, tzinfo=UTC))["anonymised"] == 0
    assert _client(app, dossier.client_id).anonymised_at is None
    assert _run(app, datetime(2028, 11, 23, 23, 0, tzinfo=UTC))["anonymised"] == 1


def test_the_period_follows_the_setting(app, client, make, api_login, monkeypatch):
    full_dossier(client, make, api_login)
    monkeypatch.setattr(app.config["HUB"], "retention_months", 12)
    assert _run(app, datetime(2027, 12, 1, tzinfo=UTC))["anonymised"] == 1


def test_an_open_trajectory_is_never_anonymised(app, client, make, api_login):
    dossier = full_dossier(client, make, api_login, close=False)
    with app.app_context():  # (the audit part of the job would meet the database's real clock ten years back)
        assert jobs.anonymise_expired(NOW + timedelta(days=3650), 24) == 0
    assert _client(app, dossier.client_id).anonymised_at is None


def test_a_newer_trajectory_inside_the_period_keeps_the_client(app, client, make, api_login):
    dossier = full_dossier(client, make, api_login)
    reentry = client.post(f"/api/v1/clients/{dossier.client_id}/trajectories", json={}, headers=dossier.coach_headers)
    assert reentry.status_code == 201, reentry.get_json()
    closed = client.post(f"/api/v1/trajectories/{reentry.get_json()['id']}/close", headers=dossier.coach_headers,
                         json={"outcome": "dropped_out", "closed_on": NOW.date().isoformat()})
    assert closed.status_code == 200, closed.get_json()
    with app.app_context():  # the first trajectory ran long ago
        db.session.execute(update(Trajectory).where(Trajectory.id == dossier.trajectory_id)
                           .values(closed_on=date(2022, 5, 1)))
        db.session.commit()
    assert _run(app, datetime(2027, 12, 1, tzinfo=UTC))["anonymised"] == 0
    assert _run(app, IN_25_MONTHS)["anonymised"] == 1


def test_a_handoff_declined_long_ago_is_anonymised_too(app, client, make, api_login):
    programme = make.organisation("exit_programme")
    coach = make.user("coach", organisation_id=programme)
    handoff_id, client_id = make.handoff(programme_id=programme)
    declined = client.post(f"/api/v1/referrals/{handoff_id}/decline", headers=api_login(coach),
                           json={"reason": "Roos woont buiten onze regio."})
    assert declined.status_code == 200
    pending_id, pending_client = make.handoff(programme_id=programme)  # still in the intake queue
    assert _run(app, IN_25_MONTHS)["anonymised"] == 1
    assert _client(app, pending_client).anonymised_at is None
    with app.app_context():
        handoff = db.session.get(Handoff, handoff_id)
        assert handoff.decline_reason is None and handoff.status.value == "declined"
        assert db.session.get(Client, client_id).alias == ANONYMISED


def test_a_legal_hold_stops_anonymisation_until_it_is_lifted(app, client, make, api_login):
    dossier = full_dossier(client, make, api_login)
    path = f"/api/v1/clients/{dossier.client_id}/legal-hold"
    hold = client.post(path, json={"reason": "Strafzaak 09/123456-26"}, headers=dossier.coach_headers)
    assert hold.status_code == 200
    assert _run(app, IN_25_MONTHS)["anonymised"] == 0
    assert "raamprostitutie" in _export(client, dossier)
    assert client.delete(path, headers=dossier.coach_headers).status_code == 200
    assert _run(app, IN_25_MONTHS)["anonymised"] == 1


# --- the audit trail --------------------------------------------------------------------------------

def _event(moment: datetime, client_id: int | None = None) -> int:
    event = AuditEvent(tag="test:thing:read", action=AuditAction.READ, result=AuditResult.SUCCESS,
                       occurred_at=moment, client_id=client_id)
    db.session.add(event)
    db.session.commit()
    return event.id


def _held_client(make, app) -> int:
    _, client_id = make.handoff()
    with app.app_context():
        row = db.session.get(Client, client_id)
        row.legal_hold_since = NOW
        row.legal_hold_reason = "Getuige in een strafzaak"
        db.session.commit()
    return client_id


def test_the_audit_trail_is_removed_after_five_years_except_under_a_legal_hold(app, make):
    held = _held_client(make, app)
    with app.app_context():
        old = _event(NOW - timedelta(days=7 * 365))
        edge_old = _event(years_before(NOW, 5) - timedelta(days=2))
        edge_young = _event(years_before(NOW, 5) + timedelta(days=1))
        young = _event(NOW - timedelta(days=4 * 365))
        old_held = _event(NOW - timedelta(days=7 * 365), client_id=held)
        assert remove_old_audit_events(NOW, 5) == 2
        left = set(db.session.scalars(select(AuditEvent.id).where(
            AuditEvent.id.in_([old, edge_old, edge_young, young, old_held]))))
    assert left == {edge_young, young, old_held}


def test_the_audit_trail_is_removed_in_batches(app, monkeypatch):
    monkeypatch.setattr(jobs, "AUDIT_BATCH", 2)
    with app.app_context():
        ids = [_event(NOW - timedelta(days=6 * 365, hours=hour)) for hour in range(5)]
        assert _run(app, NOW)["audit_events_removed"] == 5
        assert db.session.scalar(select(func.count()).where(AuditEvent.id.in_(ids))) == 0


def test_a_longer_audit_period_keeps_more(app, monkeypatch):
    monkeypatch.setattr(app.config["HUB"], "audit_retention_years", 10)
    with app.app_context():
        kept = _event(NOW - timedelta(days=7 * 365))
        assert _run(app, NOW)["audit_events_removed"] == 0
        assert db.session.get(AuditEvent, kept) is not None


@pytest.mark.parametrize("statement", [
    "DELETE FROM audit_events WHERE id = :young",
    "DELETE FROM audit_events WHERE id = :held",
    "DELETE FROM audit_events",
    "UPDATE audit_events SET detail = 'changed' WHERE id = :old",
])
def test_the_database_still_refuses_what_retention_does_not_allow(app, make, statement):
    held = _held_client(make, app)
    with app.app_context():
        ids = {"old": _event(NOW - timedelta(days=7 * 365)), "young": _event(NOW - timedelta(days=4 * 365)),
               "held": _event(NOW - timedelta(days=7 * 365), client_id=held)}
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement), ids)
        db.session.rollback()
        assert db.session.scalar(select(func.count()).where(AuditEvent.id.in_(ids.values()))) == 3


def test_the_database_allows_removing_an_event_older_than_five_years(app):
    with app.app_context():
        old = _event(NOW - timedelta(days=7 * 365))
        db.session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": old})
        db.session.commit()
        assert db.session.get(AuditEvent, old) is None


@pytest.mark.committed
def test_three_schedulers_at_once_anonymise_each_client_once(isolated_app):
    import threading

    from hub.auth.models import User
    from hub.clock import freeze
    from hub.consent.service import decide
    from hub.referrals.models import TrajectoryOutcome
    from hub.referrals.service import accept_handoff
    from hub.referrals.trajectory import close_trajectory
    from tests.factories import Factory

    app, make = isolated_app, Factory(isolated_app)
    freeze(NOW)
    programme = make.organisation("exit_programme")
    coach = make.user("coach", organisation_id=programme)
    for _ in range(3):
        handoff_id, client_id = make.handoff(programme_id=programme)
        with app.test_request_context():
            actor = db.session.get(User, coach.id)
            accept_handoff(actor, db.session.get(Handoff, handoff_id), NOW)
            trajectory = db.session.scalar(select(Trajectory).where(Trajectory.client_id == client_id))
            close_trajectory(actor, trajectory, decide(programme, client_id, "handoff", None, NOW).ground, NOW,
                             outcome=TrajectoryOutcome.MOVED, closed_on=NOW.date())
            db.session.commit()
    start = threading.Barrier(3)
    results, errors = [], []

    def run():
        try:
            start.wait()
            results.append(_run(app, IN_25_MONTHS))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(result["anonymised"] for result in results) == 3
    with app.app_context():
        events = db.session.execute(select(AuditEvent.client_id, func.count())
                                    .where(AuditEvent.tag == "rights:retention:anonymised")
                                    .group_by(AuditEvent.client_id)).all()
    assert len(events) == 3 and {count for _client_id, count in events} == {1}
