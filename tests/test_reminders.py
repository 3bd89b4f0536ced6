"""Reminders for coaches: a weekly digest of late referrals, and monthly contact in aftercare."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from hub.auth.models import User
from hub.extensions import db
from hub.notifications.models import Notification
from hub.notifications.service import notify
from hub.referrals.models import Handoff, Phase, Trajectory, TrajectoryPhase
from hub.referrals.reminders import aftercare_reminders, weekly_digest
from hub.referrals.service import accept_handoff
from hub.referrals.service_referrals import refer
from hub.vocab import LifeDomain
from tests.conftest import NOW


def _accepted_client(app, make):
    programme = make.organisation("exit_programme")
    coach = make.user("coach", organisation_id=programme)
    handoff_id, client_id = make.handoff(programme_id=programme)
    partner_org = make.organisation("debt_relief")
    make.user("partner", organisation_id=partner_org)
    with app.test_request_context():
        from hub.consent.service import record_consent

        user = db.session.get(User, coach.id)
        accept_handoff(user, db.session.get(Handoff, handoff_id), NOW)
        record_consent(user, client_id=client_id, recipient_organisation_id=partner_org, purpose="service_referral",
                       scope=["finances"], method="verbal", statement="ja", now=NOW)
        refer(user, client_id, partner_org, LifeDomain.FINANCES, None, NOW)
        db.session.commit()
    return coach, handoff_id


def _count(app, user_id, prefix):
    with app.app_context():
        return db.session.scalar(select(func.count()).where(Notification.user_id == user_id,
                                                            Notification.dedupe_key.startswith(prefix)))


def test_the_weekly_digest_comes_on_monday_morning_once(app, make):
    coach, _ = _accepted_client(app, make)
    monday_after = NOW + timedelta(days=7)  # the referral has waited a week without acknowledgement
    with app.app_context():
        assert weekly_digest(monday_after - timedelta(hours=4)) == 0  # 06:00 Dutch time: not yet
        assert weekly_digest(monday_after) == 1
        assert weekly_digest(monday_after + timedelta(hours=1)) == 0
        assert weekly_digest(monday_after + timedelta(days=1)) == 0  # Tuesday: no digest day
    assert _count(app, coach.id, "digest:") == 1


def test_no_digest_when_nothing_is_late(app, make):
    coach, _ = _accepted_client(app, make)
    with app.app_context():
        assert weekly_digest(NOW) == 0  # requested just now: not late


def test_aftercare_reminds_the_coach_once_a_month(app, make):
    coach, handoff_id = _accepted_client(app, make)
    with app.app_context():
        trajectory = db.session.scalar(select(Trajectory).where(Trajectory.handoff_id == handoff_id))
        for period in trajectory.phases:
            period.ended_on = date(2026, 11, 23)
        trajectory.phases.append(TrajectoryPhase(phase=Phase.AFTERCARE, started_on=date(2026, 11, 23),
                                                 recorded_by_id=coach.id))
        db.session.commit()
        assert aftercare_reminders(NOW) == 1
        assert aftercare_reminders(NOW + timedelta(days=3)) == 0
        assert aftercare_reminders(NOW + timedelta(days=40)) == 1  # a new month
    assert _count(app, coach.id, "aftercare:") == 2


def test_a_dedupe_key_makes_one_notification_however_often_it_is_asked(app, make):
    coach = make.user("coach")
    with app.test_request_context():
        user = db.session.get(User, coach.id)
        assert notify(user, "Herinnering", "Eén keer", dedupe_key="test:once") is not None
        assert notify(user, "Herinnering", "Nog eens", dedupe_key="test:once") is None
        db.session.commit()
    assert _count(app, coach.id, "test:") == 1


def test_the_database_refuses_a_second_notification_with_a_key_and_any_number_without(app, make):
    """The race `notify` loses to another scheduler: its check found no key, the unique index decides.
    Notifications without a key (most of them) are not held by that index at all."""
    coach = make.user("coach")
    with app.test_request_context():
        rows = [Notification(user_id=coach.id, subject="Melding", body="Zonder sleutel") for _ in range(3)]
        db.session.add_all(rows)
        db.session.add(Notification(user_id=coach.id, subject="Herinnering", body="Eerste", dedupe_key="test:race"))
        db.session.commit()
        db.session.add(Notification(user_id=coach.id, subject="Herinnering", body="Tweede", dedupe_key="test:race"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
    assert _count(app, coach.id, "test:") == 1
