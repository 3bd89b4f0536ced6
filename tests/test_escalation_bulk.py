"""The sweep at scale (bench/run.py measures it): set-based statements over the clocks' indexes, a
rerun that claims nothing, one notification per person per sweep. Here: the same answers as one
referral at a time would give."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, text

from hub.extensions import db
from hub.notifications.models import Notification
from hub.referrals import escalation
from hub.referrals.escalation import escalate_overdue
from hub.referrals.service_referral_models import Escalation, ServiceReferral
from tests.conftest import NOW, TEST_DATABASE_URL
from tests.test_escalation import _chain, _sweep


def test_each_person_gets_one_message_per_sweep_counting_their_stalled_referrals(app, make):
    """Five stalled referrals of one coach, at one partner: the coach and the partner's contact each
    get one notification counting five, not five notifications (and no referral numbers in a
    message that may travel by e-mail: the escalations page lists them)."""
    first = _chain(app, make)
    chains = [first, *(_chain(app, make, joining=first) for _ in range(4))]
    assert _sweep(app, NOW + timedelta(days=4))["level_1"] == 5
    told = _told_at(app, NOW + timedelta(days=4))
    assert sorted(told) == sorted([first["coach"].id, first["partner"].id])
    for subject, body in told.values():
        assert subject and re.findall(r"\d+", body) == ["5", "1"]  # how many, the highest level: no numbers
    assert len(chains) == 5


def test_a_second_sweep_tells_only_of_what_it_raised(app, make):
    first = _chain(app, make)
    _sweep(app, NOW + timedelta(days=4))
    later = _chain(app, make, joining=first)
    _sweep(app, NOW + timedelta(days=8))
    _subject, body = _told_at(app, NOW + timedelta(days=8))[first["coach"].id]
    assert str(later["referral_id"]) in body.split() and str(first["referral_id"]) not in body.split()


def test_people_of_different_referrals_hear_only_of_their_own(app, make):
    one, other = _chain(app, make), _chain(app, make)
    _sweep(app, NOW + timedelta(days=4))
    told = _told_at(app, NOW + timedelta(days=4))
    for mine, theirs in ((one, other), (other, one)):
        for account in (mine["coach"], mine["partner"]):
            _subject, body = told[account.id]
            assert str(mine["referral_id"]) in body.split() and str(theirs["referral_id"]) not in body.split()


def _told_at(app, moment) -> dict:
    """Who was told by the sweep at `moment`: user id -> (subject, body); one notification each."""
    with app.app_context():
        rows = db.session.execute(select(Notification.user_id, Notification.subject, Notification.body)
                                  .where(Notification.created_at == moment)).all()
    told = {user_id: (subject, body) for user_id, subject, body in rows}
    assert len(told) == len(rows), "someone was told twice in one sweep"
    return told


def test_a_rerun_claims_nothing_and_a_new_episode_escalates_again(app, make):
    chain = _chain(app, make)
    assert _sweep(app, NOW + timedelta(days=4))["level_1"] == 1
    assert _sweep(app, NOW + timedelta(days=4, hours=1)) == {"level_1": 0, "level_2": 0, "level_3": 0}
    with app.app_context():
        episodes = db.session.scalars(select(Escalation.episode).where(
            Escalation.service_referral_id == chain["referral_id"])).all()
    assert episodes == [1]


def test_rules_for_kinds_reach_only_partners_of_those_kinds(app, make):
    """Addiction care has no norm for `requested` of its own: the general 3 working days apply; debt
    relief's own rule (urgent) does not reach it."""
    addiction = _chain(app, make, partner_kind="addiction_care")
    debt = _chain(app, make)
    raised = _sweep(app, NOW + timedelta(days=4))
    assert raised["level_1"] == 2
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Escalation).where(
            Escalation.service_referral_id.in_([addiction["referral_id"], debt["referral_id"]]))) == 2


def _with_backup_coach(app, make, chain):
    """A backup coach on the handoff of the referral's client's open trajectory."""
    from hub.referrals.models import Handoff, Trajectory

    backup = make.user("coach", organisation_id=chain["programme"])
    with app.app_context():
        trajectory = db.session.scalar(select(Trajectory).join(ServiceReferral, ServiceReferral.client_id ==
                                                               Trajectory.client_id)
                                       .where(ServiceReferral.id == chain["referral_id"]))
        db.session.get(Handoff, trajectory.handoff_id).backup_coach_id = backup.id
        db.session.commit()
    return backup


def test_the_backup_coach_of_the_open_trajectory_is_told_too(app, make):
    chain = _chain(app, make)
    backup = _with_backup_coach(app, make, chain)
    _sweep(app, NOW + timedelta(days=4))
    assert {chain["coach"].id, backup.id, chain["partner"].id} == set(_told_at(app, NOW + timedelta(days=4)))


def test_a_coach_whose_trajectory_with_the_client_closed_is_not_told(app, make):
    """The client left the programme: the partner's contact still hears of the stalled referral,
    the former coach no longer does (they no longer coach this client)."""
    from hub.referrals.models import Trajectory, TrajectoryOutcome

    chain = _chain(app, make)
    with app.app_context():
        trajectory = db.session.scalar(select(Trajectory).join(ServiceReferral, ServiceReferral.client_id ==
                                                               Trajectory.client_id)
                                       .where(ServiceReferral.id == chain["referral_id"]))
        trajectory.closed_on, trajectory.outcome = (NOW + timedelta(days=1)).date(), TrajectoryOutcome.MOVED
        db.session.commit()
    assert _sweep(app, NOW + timedelta(days=4))["level_1"] == 1
    assert set(_told_at(app, NOW + timedelta(days=4))) == {chain["partner"].id}


def test_a_deactivated_coach_is_no_longer_told_but_the_backup_coach_is(app, make):
    from hub.auth.models import User

    chain = _chain(app, make)
    backup = _with_backup_coach(app, make, chain)
    with app.app_context():
        db.session.get(User, chain["coach"].id).active = False  # the coach left the programme
        db.session.commit()
    assert _sweep(app, NOW + timedelta(days=4))["level_1"] == 1
    assert set(_told_at(app, NOW + timedelta(days=4))) == {backup.id, chain["partner"].id}


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="the plans of PostgreSQL")
def test_the_sweep_asks_escalated_yet_with_one_probe_of_the_unique_key(app, make):
    """Whatever the planner believes of the escalations (here: none, as after a quiet spell), each
    "escalated yet?" of the sweep's statements is a probe of uq_escalations_once: another index, or a
    scan, would be read once per stalled referral, growing with each row the statement inserts."""
    first = _chain(app, make)
    for _ in range(3):
        _chain(app, make, joining=first)
    statements = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith("INSERT INTO ESCALATIONS"):
            statements.append((statement, parameters))

    with app.app_context():
        db.session.execute(text("ANALYZE escalations"))
        db.session.commit()
        event.listen(db.engine, "before_cursor_execute", capture)
        try:
            escalate_overdue(NOW + timedelta(days=30))  # level 1, then (stalled long enough) levels 2 and 3
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
        db.session.rollback()
        assert len(statements) == 3
        with escalation._probing_the_unique_key():
            connection = db.session.connection()
            plans = ["\n".join(connection.exec_driver_sql("EXPLAIN " + statement, parameters).scalars())
                     for statement, parameters in statements]
        db.session.rollback()
    for plan in plans:
        lines = plan.splitlines()
        probes = [number for number, line in enumerate(lines) if "on escalations escalations_done" in line]
        assert probes, plan
        for number in probes:  # the probe uses the unique key, given the referral and the episode
            assert "uq_escalations_once" in lines[number], plan
            condition = lines[number + 1]
            assert "Index Cond" in condition and "service_referral_id =" in condition and "episode =" in condition, plan
