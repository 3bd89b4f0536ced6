"""The sweep at scale (bench/run.py measures it): one statement per rule over the index, a rerun that
claims nothing, notifications written in bulk and in bounded rounds. Here: the same answers as one
referral at a time would give."""
from datetime import timedelta

from sqlalchemy import func, select

from hub.extensions import db
from hub.notifications.models import Notification
from hub.referrals import escalation
from hub.referrals.service_referral_models import Escalation
from tests.conftest import NOW
from tests.test_escalation import _chain, _sweep


def test_many_escalations_are_told_in_rounds_each_recipient_once(app, make, monkeypatch):
    monkeypatch.setattr(escalation, "NOTIFY_CHUNK", 2)  # five referrals: three rounds
    chains = [_chain(app, make) for _ in range(5)]
    assert _sweep(app, NOW + timedelta(days=4))["level_1"] == 5
    with app.app_context():
        told = db.session.execute(select(Notification.user_id, Notification.body).where(
            Notification.created_at == NOW + timedelta(days=4))).all()  # written by the sweep
        bodies = {user_id: [] for user_id, _body in told}
        for user_id, body in told:
            bodies[user_id].append(body)
    for chain in chains:  # the coach and the partner's contact, about this referral, once each
        for account in (chain["coach"], chain["partner"]):
            assert [b for b in bodies[account.id] if str(chain["referral_id"]) in b.split()] != []
    assert len(told) == 10


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
