"""The registration report reads `registration_facts`, which triggers keep. On random data, written the
ways the hub writes (the ORM, multi-row INSERTs as an import does, UPDATEs of trajectories, clients and
goals, DELETEs as retention does), the stored facts equal the facts computed afresh, and the report from
them equals the report computed live from trajectories, clients and goals, for every period, every set
of programmes, exact and suppressed."""
import random
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, insert, select, update

from hub.extensions import db
from hub.referrals.models import Client, Goal, Trajectory, TrajectoryPhase
from hub.reports import registration_facts
from hub.reports.period import Period
from hub.reports.registration import registration
from hub.vocab import Gender, LegalStatus, LifeDomain, TargetGroup
from tests.conftest import NOW
from tests.reports_support import ALIAS, make_world

OUTCOMES = ("exited", "dropped_out", "moved", "other")
PERIODS = (Period(date(2026, 1, 1), date(2026, 6, 30)), Period(date(2026, 3, 1), date(2026, 3, 1)),
           Period(date(2024, 1, 1), date(2026, 11, 23)), Period(date(2025, 12, 31), date(2026, 1, 1)),
           Period(date(2026, 7, 1), date(2026, 12, 31)))


def random_groups(rng: random.Random) -> list[str]:
    groups = rng.sample([member.value for member in TargetGroup], rng.randrange(0, 3))
    return groups + groups[:1] if rng.random() < 0.1 else groups  # now and then a group listed twice


def random_day(rng: random.Random) -> date:
    return date(2025, 6, 1) + timedelta(days=rng.randrange(0, 600))


def stored_facts() -> set:
    table = registration_facts.stored()
    return set(db.session.execute(select(*(table.c[name] for name in registration_facts.COLUMNS))).all())


def live_facts() -> set:
    return set(db.session.execute(registration_facts.live(db.session.get_bind().dialect.name)).all())


def assert_stored_equals_live(app, programme_sets) -> None:
    with app.test_request_context():
        assert stored_facts() == live_facts()
        counted = 0
        for programmes in programme_sets:
            for period in PERIODS:
                for suppress_small in (False, True):
                    stored = registration(programmes, period, suppress_small=suppress_small)
                    live = registration(programmes, period, suppress_small=suppress_small, live=True)
                    assert stored == live, (programmes, period, suppress_small)
                    counted += stored["unique_clients"]
        assert counted > 0


@pytest.mark.parametrize("seed", [1, 2])
def test_the_stored_facts_give_the_live_registration_through_every_kind_of_write(app, make, seed):
    rng = random.Random(seed)
    world = make_world(make, app)
    second = make.organisation("exit_programme", municipality=world.municipality)
    programmes = (world.programme, second)
    with app.test_request_context():
        # Through the ORM, as the workflow writes: clients, trajectories (re-entries), goals.
        for _ in range(30):
            client = Client(programme_id=rng.choice(programmes), gender=rng.choice(list(Gender)),
                            legal_status=rng.choice(list(LegalStatus)), target_groups=random_groups(rng))
            client.alias = ALIAS
            db.session.add(client)
            db.session.flush()
            opened = random_day(rng)
            for number in range(1, rng.randrange(1, 4) + 1):
                closed = opened + timedelta(days=rng.randrange(0, 200))
                last_open = rng.random() < 0.4
                trajectory = Trajectory(client_id=client.id, number=number, programme_id=client.programme_id,
                                        handoff_id=world.handoff_id, opened_on=opened,
                                        opened_by_id=world.requester_id, closed_on=None if last_open else closed,
                                        outcome=None if last_open else rng.choice(OUTCOMES))
                for _ in range(rng.randrange(0, 4)):
                    trajectory.goals.append(Goal(domain=rng.choice(list(LifeDomain)), target=8,
                                                 created_by_id=world.requester_id))
                db.session.add(trajectory)
                db.session.flush()
                if last_open:
                    break
                opened = closed + timedelta(days=rng.randrange(1, 60))
        db.session.commit()
        # Multi-row INSERTs, as an import does: clients, then their (imported) trajectories, then goals.
        client_ids = []
        for _ in range(20):
            client = Client(programme_id=second, gender=rng.choice(list(Gender)),
                            legal_status=rng.choice(list(LegalStatus)), target_groups=random_groups(rng))
            client.alias = ALIAS
            db.session.add(client)
            db.session.flush()
            client_ids.append(client.id)
        opened = [random_day(rng) for _ in client_ids]
        db.session.execute(insert(Trajectory), [
            {"uid": uuid.uuid4().hex, "client_id": client_id, "number": 1, "programme_id": second,
             "opened_on": day, "imported_at": NOW, "closed_on": day + timedelta(days=90),
             "outcome": rng.choice(OUTCOMES)} for client_id, day in zip(client_ids, opened, strict=True)])
        imported = list(db.session.scalars(select(Trajectory.id).where(Trajectory.client_id.in_(client_ids))))
        db.session.execute(insert(Goal), [
            {"uid": uuid.uuid4().hex, "trajectory_id": rng.choice(imported), "domain": rng.choice(list(LifeDomain)),
             "target": 7, "created_by_id": world.requester_id} for _ in range(30)])
        db.session.commit()
    assert_stored_equals_live(app, [[world.programme], [second], list(programmes)])

    with app.test_request_context():
        trajectory_ids = list(db.session.scalars(select(Trajectory.id).order_by(Trajectory.id)))
        for trajectory_id in rng.sample(trajectory_ids, 15):  # re-dated, closed otherwise, moved programme
            changes = rng.choice(({"opened_on": random_day(rng) - timedelta(days=400)},
                                  {"outcome": rng.choice(OUTCOMES)}, {"programme_id": rng.choice(programmes)}))
            db.session.execute(update(Trajectory).where(Trajectory.id == trajectory_id).values(**changes))
        for client in db.session.scalars(select(Client)):  # the client's facts as recorded now
            if rng.random() < 0.4:
                client.gender, client.target_groups = rng.choice(list(Gender)), random_groups(rng)
            if rng.random() < 0.2:
                client.legal_status = rng.choice(list(LegalStatus))
        db.session.flush()
        goal_ids = list(db.session.scalars(select(Goal.id)))
        for goal_id in rng.sample(goal_ids, 10):
            db.session.execute(update(Goal).where(Goal.id == goal_id).values(domain=rng.choice(list(LifeDomain))))
        for goal_id in rng.sample(goal_ids, 5):
            db.session.execute(update(Goal).where(Goal.id == goal_id).values(trajectory_id=rng.choice(trajectory_ids)))
        db.session.execute(delete(Goal).where(Goal.id.in_(rng.sample(goal_ids, 8))))
        gone = rng.sample(trajectory_ids, 6)  # retention: goals and phases first, then the trajectories
        db.session.execute(delete(Goal).where(Goal.trajectory_id.in_(gone)))
        db.session.execute(delete(TrajectoryPhase).where(TrajectoryPhase.trajectory_id.in_(gone)))
        db.session.execute(update(Trajectory).where(Trajectory.previous_id.in_(gone)).values(previous_id=None))
        db.session.execute(delete(Trajectory).where(Trajectory.id.in_(gone)))
        db.session.commit()
    assert_stored_equals_live(app, [[world.programme], [second], list(programmes)])


def test_the_facts_follow_a_trajectory_its_client_and_its_goals(app, make):
    world = make_world(make, app)
    with app.test_request_context():
        client = Client(programme_id=world.programme, gender="female", legal_status="resident",
                        target_groups=["man", "minor", "man", "not_a_group"])
        client.alias = ALIAS
        db.session.add(client)
        db.session.flush()
        trajectory = Trajectory(client_id=client.id, number=1, programme_id=world.programme,
                                handoff_id=world.handoff_id, opened_on=date(2026, 2, 1),
                                opened_by_id=world.requester_id)
        trajectory.goals.append(Goal(domain="work", target=8, created_by_id=world.requester_id))
        trajectory.goals.append(Goal(domain="housing", target=8, created_by_id=world.requester_id))
        db.session.add(trajectory)
        db.session.commit()
        man, minor = (registration_facts.bit(TargetGroup, TargetGroup(name)) for name in ("man", "minor"))
        housing, work = (registration_facts.bit(LifeDomain, LifeDomain(name)) for name in ("housing", "work"))
        assert stored_facts() == {(trajectory.id, world.programme, client.id, date(2026, 2, 1), None, None, "female",
                                   "resident", man | minor, housing | work)}
        client.gender, client.target_groups = "transgender", []
        trajectory.closed_on, trajectory.outcome = date(2026, 5, 1), "exited"
        db.session.delete(trajectory.goals[0])
        db.session.commit()
        assert stored_facts() == {(trajectory.id, world.programme, client.id, date(2026, 2, 1), date(2026, 5, 1),
                                   "exited", "transgender", "resident", 0, housing)}
        db.session.execute(delete(Goal).where(Goal.trajectory_id == trajectory.id))
        db.session.execute(delete(Trajectory).where(Trajectory.id == trajectory.id))
        db.session.commit()
        assert stored_facts() == set()
