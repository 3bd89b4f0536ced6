"""Escalation of stalled referrals: norms in working days, the ladder, and exactly once."""
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import DatabaseError

from hub.auth.models import User
from hub.clock import freeze
from hub.extensions import db
from hub.jobs import JOBS, build_scheduler
from hub.notifications.models import Notification
from hub.referrals import escalation
from hub.referrals.escalation import escalate_overdue, subtract_working_days
from hub.referrals.service_referral_models import Escalation, ServiceReferral, Status
from hub.referrals.service_referrals import record_event, refer
from hub.vocab import LifeDomain
from tests.conftest import NOW
from tests.factories import Factory

AMS = escalation.AMSTERDAM


def test_working_days_skip_weekends_and_dutch_holidays():
    monday = datetime(2026, 11, 23, 10, 0, tzinfo=AMS)
    assert subtract_working_days(monday, 1) == datetime(2026, 11, 20, 10, 0, tzinfo=AMS)  # Friday
    after_christmas = datetime(2026, 12, 28, 10, 0, tzinfo=AMS)  # Monday; 25 and 26 Dec are holidays
    assert subtract_working_days(after_christmas, 1) == datetime(2026, 12, 24, 10, 0, tzinfo=AMS)
    after_kings_day = datetime(2027, 4, 28, 9, 0, tzinfo=AMS)  # Wednesday; 27 April is King's Day
    assert subtract_working_days(after_kings_day, 1) == datetime(2027, 4, 26, 9, 0, tzinfo=AMS)


def _chain(app, make, partner_kind="debt_relief", municipality="Arnhem", joining=None, urgent=False):
    """A referral to a partner, sent at NOW, with a coach, a partner contact and a chain director;
    `joining` another chain: a new client of the same coach, referred to the same partner."""
    if joining is None:
        programme = make.organisation("exit_programme", municipality=municipality)
        coach = make.user("coach", organisation_id=programme)
        partner_org = make.organisation(partner_kind, municipality=municipality)
        partner = make.user("partner", organisation_id=partner_org)
        director = make.user("director", organisation_id=make.organisation("municipality", municipality=municipality))
    else:
        programme, partner_org = joining["programme"], joining["partner_org"]
        coach, partner, director = joining["coach"], joining["partner"], joining["director"]
    handoff_id, client_id = make.handoff(programme_id=programme)
    domain = {"debt_relief": LifeDomain.FINANCES, "addiction_care": LifeDomain.MENTAL_HEALTH}[partner_kind]
    with app.test_request_context():
        from hub.consent.service import record_consent
        from hub.referrals.models import Handoff
        from hub.referrals.service import accept_handoff

        coach_user = db.session.get(User, coach.id)
        accept_handoff(coach_user, db.session.get(Handoff, handoff_id), NOW)
        record_consent(coach_user, client_id=client_id, recipient_organisation_id=partner_org,
                       purpose="service_referral", scope=[domain.value], method="verbal", statement="ja", now=NOW)
        referral = refer(coach_user, client_id, partner_org, domain, None, NOW, urgent=urgent)
        db.session.commit()
        return {"referral_id": referral.id, "coach": coach, "partner": partner, "director": director,
                "programme": programme, "partner_org": partner_org}


def _sweep(app, at):
    with app.app_context():
        return escalate_overdue(at)


def _escalations(app, referral_id):
    with app.app_context():
        return [(e.level, e.state.value, e.episode) for e in db.session.scalars(
            select(Escalation).where(Escalation.service_referral_id == referral_id).order_by(Escalation.id))]


def test_an_unacknowledged_referral_escalates_after_three_working_days(app, make):
    chain = _chain(app, make)
    assert _sweep(app, NOW + timedelta(days=3)) == {"level_1": 0, "level_2": 0, "level_3": 0}  # Thursday: 3 days
    assert _sweep(app, NOW + timedelta(days=3, minutes=1))["level_1"] == 1
    assert _escalations(app, chain["referral_id"]) == [(1, "open", 1)]
    with app.app_context():
        told = set(db.session.scalars(select(Notification.user_id)))
    assert {chain["partner"].id, chain["coach"].id} <= told and chain["director"].id not in told


def test_the_ladder_climbs_to_the_chain_director(app, make):
    chain = _chain(app, make)
    first = NOW + timedelta(days=3, hours=1)  # Thursday
    _sweep(app, first)
    assert _sweep(app, first + timedelta(days=4))["level_2"] == 0  # Monday: 2 working days later
    assert _sweep(app, first + timedelta(days=5, hours=1))["level_2"] == 1  # Tuesday: 3 working days
    assert _sweep(app, first + timedelta(days=12, hours=2))["level_3"] == 1  # 5 working days after level 2
    assert [level for level, _state, _episode in _escalations(app, chain["referral_id"])] == [1, 2, 3]
    with app.app_context():
        director_told = db.session.scalar(select(func.count()).where(Notification.user_id == chain["director"].id))
    assert director_told == 1


def test_an_escalation_closes_itself_when_the_referral_moves_on(app, make):
    chain = _chain(app, make)
    _sweep(app, NOW + timedelta(days=4))
    with app.test_request_context():
        referral = db.session.get(ServiceReferral, chain["referral_id"])
        record_event(db.session.get(User, chain["partner"].id), referral, Status.RECEIVED, NOW + timedelta(days=5))
        db.session.commit()
        escalation_row = db.session.scalar(select(Escalation))
        assert escalation_row.state.value == "resolved" and escalation_row.resolution_hours == 24.0
    assert _sweep(app, NOW + timedelta(days=5, minutes=1))["level_1"] == 0  # the new status has its own clock


def test_time_on_hold_for_the_client_does_not_count(app, make):
    chain = _chain(app, make)
    with app.test_request_context():
        coach = db.session.get(User, chain["coach"].id)
        referral = db.session.get(ServiceReferral, chain["referral_id"])
        record_event(coach, referral, Status.ON_HOLD, NOW + timedelta(days=1), reason="client")
        record_event(coach, referral, Status.REQUESTED, NOW + timedelta(days=8))  # back a week later
        db.session.commit()
    # 3 working days of clock: 1 before the hold (Mon->Tue) and 2 after (Tue 8 Dec -> Thu 10 Dec)
    assert _sweep(app, NOW + timedelta(days=10))["level_1"] == 0
    assert _sweep(app, NOW + timedelta(days=10, hours=1))["level_1"] == 1


def test_a_hold_on_the_partners_side_keeps_the_clock_running(app, make):
    chain = _chain(app, make)
    with app.test_request_context():
        referral = db.session.get(ServiceReferral, chain["referral_id"])
        record_event(db.session.get(User, chain["coach"].id), referral, Status.ON_HOLD, NOW + timedelta(hours=1),
                     reason="partner")
        db.session.commit()
    assert _sweep(app, NOW + timedelta(days=3, hours=1))["level_1"] == 1


def test_urgent_debt_relief_has_the_shorter_norm(app, make):
    """Debt relief: 4 weeks for a first conversation, 3 working days when eviction threatens."""
    usual = _chain(app, make)
    urgent = _chain(app, make, joining=usual, urgent=True)
    with app.test_request_context():
        for chain in (usual, urgent):
            referral = db.session.get(ServiceReferral, chain["referral_id"])
            record_event(db.session.get(User, chain["partner"].id), referral, Status.WAITLISTED, NOW)
        db.session.commit()
    assert _sweep(app, NOW + timedelta(days=10))["level_1"] == 1  # Monday: 3 working days for the urgent one
    assert [level for level, _state, _episode in _escalations(app, urgent["referral_id"])] == [1]
    assert _escalations(app, usual["referral_id"]) == []  # not urgent: 20 working days


def test_a_chain_directors_override_wins_for_partners_in_that_municipality(app, make):
    from hub.referrals.service_referral_models import SlaOverride

    chain = _chain(app, make)
    with app.app_context():
        db.session.add(SlaOverride(municipality="arnhem", status=Status.REQUESTED, working_days=10,
                                   set_by_id=chain["director"].id))
        db.session.commit()
    assert _sweep(app, NOW + timedelta(days=7))["level_1"] == 0  # the default (3) would have fired
    assert _sweep(app, NOW + timedelta(days=15))["level_1"] == 1


def test_a_second_sweep_raises_nothing_again(app, make):
    _chain(app, make)
    assert _sweep(app, NOW + timedelta(days=4))["level_1"] == 1
    assert _sweep(app, NOW + timedelta(days=4))["level_1"] == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Escalation)) == 1


def test_the_database_refuses_to_delete_a_referral_that_was_escalated(app, make):
    chain = _chain(app, make)
    _sweep(app, NOW + timedelta(days=4))
    with app.app_context(), pytest.raises(DatabaseError, match="never deleted"):
        db.session.execute(delete(ServiceReferral).where(ServiceReferral.id == chain["referral_id"]))
    with app.app_context():
        db.session.rollback()
        assert db.session.get(ServiceReferral, chain["referral_id"]) is not None
        assert _escalations(app, chain["referral_id"]) == [(1, "open", 1)]


def test_a_sweep_killed_midway_leaves_nothing_half_done(app, make, monkeypatch):
    chain = _chain(app, make)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("the scheduler process is killed before notifying")

    monkeypatch.setattr(escalation, "_notify_new", killed)
    with app.app_context(), pytest.raises(KeyboardInterrupt):
        escalate_overdue(NOW + timedelta(days=4))
    monkeypatch.undo()
    assert _escalations(app, chain["referral_id"]) == []  # rolled back with the notifications
    assert _sweep(app, NOW + timedelta(days=4))["level_1"] == 1
    assert _sweep(app, NOW + timedelta(days=4))["level_1"] == 0


@pytest.mark.committed
def test_three_sweeps_at_the_same_time_raise_each_escalation_once(isolated_app):
    app = isolated_app
    make = Factory(app)
    freeze(NOW)
    referrals = [_chain(app, make)["referral_id"] for _ in range(3)]
    start = threading.Barrier(3)
    results, errors = [], []

    def sweep():
        try:
            start.wait()
            results.append(_sweep(app, NOW + timedelta(days=4)))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(r["level_1"] for r in results) == 3
    with app.app_context():
        rows = db.session.execute(select(Escalation.service_referral_id, func.count())
                                  .group_by(Escalation.service_referral_id)).all()
        notifications = db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.created_at == NOW + timedelta(days=4)))  # written by the sweeps
    assert sorted(rows) == [(r, 1) for r in sorted(referrals)]
    assert notifications == 6  # per referral: its partner's contact and its coach, once


KILLED_SWEEP = """
import sys, time
from datetime import datetime
from config import Config
from hub import create_app
from hub.referrals import escalation

instance, url, raised_marker, as_of = sys.argv[1:]
app = create_app(Config(env="test", testing=True, instance_path=instance, database_url=url))

def stuck_after_raising(*args, **kwargs):
    open(raised_marker, "w").close()
    time.sleep(600)

escalation._notify_new = stuck_after_raising
with app.app_context():
    escalation.escalate_overdue(datetime.fromisoformat(as_of))
"""


@pytest.mark.committed
def test_a_sweep_process_killed_midway_loses_nothing_and_doubles_nothing(isolated_app, tmp_path):
    """The scheduler process is SIGKILLed after the sweep's inserts, before its commit: the database
    drops them with the connection; the next sweep raises each escalation once and tells everyone."""
    app = isolated_app
    make = Factory(app)
    freeze(NOW)
    first = _chain(app, make)
    referrals = [first["referral_id"], *(_chain(app, make, joining=first)["referral_id"] for _ in range(4))]
    marker, as_of = tmp_path / "raised", NOW + timedelta(days=4)
    process = subprocess.Popen([sys.executable, "-c", KILLED_SWEEP, app.instance_path,  # noqa: S603 - our own code
                                app.config["SQLALCHEMY_DATABASE_URI"], str(marker), as_of.isoformat()],
                               cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        for _ in range(600):
            if marker.exists() or process.poll() is not None:
                break
            time.sleep(0.05)
        assert marker.exists(), "the sweep process never got as far as raising"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    assert all(_escalations(app, referral) == [] for referral in referrals)
    assert _sweep(app, as_of) == {"level_1": 5, "level_2": 0, "level_3": 0}
    assert _sweep(app, as_of) == {"level_1": 0, "level_2": 0, "level_3": 0}
    assert all(_escalations(app, referral) == [(1, "open", 1)] for referral in referrals)
    with app.app_context():
        told = db.session.execute(select(Notification.user_id, func.count()).group_by(Notification.user_id)
                                  .where(Notification.created_at == as_of)).all()
    assert sorted(told) == sorted([(first["partner"].id, 1), (first["coach"].id, 1)])


@pytest.mark.committed
def test_a_status_change_during_a_sweep_closes_what_the_sweep_raised(isolated_app, monkeypatch):
    """The partner records 'received' while a sweep is escalating that very referral: the status
    change waits for the sweep (which holds the referral's clock) and then closes its escalation."""
    app = isolated_app
    make = Factory(app)
    freeze(NOW)
    chain = _chain(app, make)
    raised, go_on, errors = threading.Event(), threading.Event(), []
    notify_new = escalation._notify_new

    def paused_after_raising(*args, **kwargs):
        raised.set()
        go_on.wait(30)
        return notify_new(*args, **kwargs)

    monkeypatch.setattr(escalation, "_notify_new", paused_after_raising)

    def sweep():
        try:
            _sweep(app, NOW + timedelta(days=4))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    def receive():
        try:
            with app.test_request_context():
                referral = db.session.get(ServiceReferral, chain["referral_id"])
                record_event(db.session.get(User, chain["partner"].id), referral, Status.RECEIVED,
                             NOW + timedelta(days=4, minutes=1))
                db.session.commit()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    sweeping = threading.Thread(target=sweep)
    sweeping.start()
    assert raised.wait(30)
    receiving = threading.Thread(target=receive)
    receiving.start()
    receiving.join(0.5)  # the status change is under way, waiting for the sweep
    go_on.set()
    sweeping.join(30)
    receiving.join(30)
    assert errors == []
    assert _escalations(app, chain["referral_id"]) == [(1, "resolved", 1)]


def test_the_sweep_and_the_outbox_are_scheduled_safely(app):
    jobs = {job.id: job for job in build_scheduler(app).get_jobs()}
    assert set(jobs) == set(JOBS) >= {"escalate_overdue", "deliver_outbox"}
    assert jobs["escalate_overdue"].trigger.interval == timedelta(minutes=15)
    assert jobs["deliver_outbox"].trigger.interval == timedelta(minutes=1)
    assert all(job.max_instances == 1 and job.coalesce and job.misfire_grace_time for job in jobs.values())


def test_the_escalate_command_sweeps_as_of_a_moment(runner, app, make):
    _chain(app, make)
    result = runner.invoke(args=["hub", "escalate", "--as-of", (NOW + timedelta(days=4)).isoformat()])
    assert result.exit_code == 0, result.output
    assert '"level_1": 1' in result.output
    refused = runner.invoke(args=["hub", "escalate", "--as-of", "2026-11-27T10:00:00"])
    assert refused.exit_code == 2 and "zone" in refused.output


def test_escalations_are_listed_for_those_who_must_act(client, api_login, app, make):
    chain = _chain(app, make)
    _sweep(app, NOW + timedelta(days=4))
    freeze(NOW + timedelta(days=4))
    for account, expected in ((chain["partner"], 1), (chain["coach"], 1), (chain["director"], 0),
                              (make.user("partner"), 0)):
        body = client.get("/api/v1/escalations?state=open", headers=api_login(account)).get_json()
        assert len(body["items"]) == expected, account.role
    assert client.get("/api/v1/escalations", headers=api_login(make.user("referrer"))).status_code == 403
