"""The waiting-time report reads its period statistics from `waiting_day_counts`, which triggers keep.
On random data, written the ways the hub writes (the ORM, plain multi-row INSERTs as an import does,
UPDATEs that start, move and re-date referrals, DELETEs as retention does), the counts-based report
equals the live computation exactly, for a chain director and for coaches, by organisation and by
domain, over several periods; and the counts equal a recount from scratch."""
import random
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, insert, select, update

from hub.extensions import db
from hub.referrals.service_referral_models import ServiceReferral, ServiceReferralEvent, Status
from hub.reports import scope
from hub.reports.models import WaitingDayCount
from hub.reports.period import AMSTERDAM, Period, local_midnight
from hub.reports.waiting import LONGEST_SHOWN, waiting_times
from hub.reports.waiting_live import day_counts
from tests.conftest import NOW
from tests.reports_support import add_referral, make_world

DOMAINS = ("finances", "housing", "mental_health")
# Moments near the edges where a careless day count goes wrong: Dutch midnight, both clock changes.
EDGES = (local_midnight(date(2026, 3, 29)), datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
         local_midnight(date(2026, 10, 25)), datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
         local_midnight(date(2026, 1, 1)), local_midnight(date(2026, 6, 30)))


def random_moment(rng: random.Random) -> datetime:
    if rng.random() < 0.3:
        return rng.choice(EDGES) + timedelta(seconds=rng.choice((-1, 0, 1, -3599, 3599)))
    return datetime(2025, 11, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(0, 385 * 86400))


def random_start(rng: random.Random, requested: datetime) -> datetime | None:
    if rng.random() < 0.25:
        return None
    start = requested + timedelta(seconds=rng.choice((0, 1, 3600, 86399, 86400)) if rng.random() < 0.3
                                  else rng.randrange(0, 80 * 86400))
    return min(start, NOW)


def counts_table() -> set:
    rows = db.session.execute(select(WaitingDayCount.organisation_id, WaitingDayCount.requested_on,
                                     WaitingDayCount.programme_id, WaitingDayCount.domain, WaitingDayCount.started,
                                     WaitingDayCount.wait_days, WaitingDayCount.referrals))
    return {(*row[:4], bool(row[4]), *row[5:]) for row in rows}


def recounted() -> set:
    return {(row[0], row[1], row[2], row[3], bool(row[4]), row[5], row[6]) for row in db.session.execute(day_counts())}


PERIODS = (Period(date(2026, 1, 1), date(2026, 11, 23)), Period(date(2026, 3, 29), date(2026, 3, 29)),
           Period(date(2026, 3, 1), date(2026, 10, 25)), Period(date(2025, 11, 1), date(2026, 12, 31)),
           Period(date(2026, 10, 26), date(2026, 10, 26)))


def current_waits(user, group_by: str) -> dict:
    """The referrals waiting now, counted by hand: per group their number and the five longest waits in
    whole days (oldest request first, ties by id)."""
    waiting = db.session.scalars(select(ServiceReferral).where(
        scope.referrals(user), ServiceReferral.started_at.is_(None), ServiceReferral.closed_at.is_(None))
        .order_by(ServiceReferral.requested_at, ServiceReferral.id)).all()
    today = NOW.astimezone(AMSTERDAM).date()
    found: dict = {}
    for referral in waiting:
        key = referral.organisation_id if group_by == "organisation" else referral.domain
        entry = found.setdefault(key, {"open_waiting": 0, "longest_current_waits": []})
        entry["open_waiting"] += 1
        if len(entry["longest_current_waits"]) < LONGEST_SHOWN:
            entry["longest_current_waits"].append((today - referral.requested_at.astimezone(AMSTERDAM).date()).days)
    return found


def assert_counts_equal_live(app, users) -> None:
    with app.test_request_context():
        assert counts_table() == recounted()
        compared = waiting = 0
        for account in users:
            user = account.load()
            for group_by in ("organisation", "domain"):
                for period in PERIODS:
                    counted = waiting_times(user, group_by, period, NOW)
                    live = waiting_times(user, group_by, period, NOW, live=True)
                    assert counted == live, (account.role, group_by, period)
                    compared += sum(item["started"] for item in counted)
                now = {item[group_by if group_by == "domain" else "organisation_id"]:
                       {name: item[name] for name in ("open_waiting", "longest_current_waits")}
                       for item in counted if item["open_waiting"]}
                assert now == current_waits(user, group_by), (account.role, group_by)
                waiting += sum(item["open_waiting"] for item in now.values())
        assert compared > 0 and waiting > 0


@pytest.mark.parametrize("seed", [1, 2])
def test_the_day_counts_give_the_live_numbers_through_every_kind_of_write(app, make, seed):
    rng = random.Random(seed)
    world = make_world(make, app, partners=3)
    other_programme = make.organisation("exit_programme", municipality=world.municipality)
    other_coach = make.user("coach", organisation_id=other_programme)
    elsewhere = make.organisation("housing", municipality="Zwolle")  # outside the director's scope
    partners = [*world.partners, elsewhere]
    users = (world.director, world.coach, other_coach)

    # Through the ORM, one at a time, as the workflow writes.
    for _ in range(40):
        requested = random_moment(rng)
        add_referral(app, world, rng.choice(partners), requested, started_at=random_start(rng, requested),
                     domain=rng.choice(DOMAINS), programme=rng.choice((world.programme, other_programme)))
    # One multi-row INSERT, as an import does.
    rows = []
    for _ in range(160):
        requested = random_moment(rng)
        rows.append({"uid": uuid.uuid4().hex, "client_id": world.client_id, "consent_id": world.consent_id,
                     "programme_id": rng.choice((world.programme, other_programme)),
                     "organisation_id": rng.choice(partners), "domain": rng.choice(DOMAINS),
                     "requested_by_id": world.requester_id, "requested_at": requested,
                     "status": Status.REQUESTED, "status_since": requested,
                     "started_at": random_start(rng, requested)})
    with app.test_request_context():
        db.session.execute(insert(ServiceReferral), rows)
        db.session.commit()
    assert_counts_equal_live(app, users)

    with app.test_request_context():
        ids = list(db.session.scalars(select(ServiceReferral.id).order_by(ServiceReferral.id)))
        for referral in db.session.scalars(select(ServiceReferral).where(ServiceReferral.started_at.is_(None))):
            if rng.random() < 0.5:  # the workflow starts it
                referral.started_at = min(referral.requested_at + timedelta(days=rng.randrange(0, 30)), NOW)
        db.session.commit()
        for referral_id in rng.sample(ids, 30):  # moved to another partner, another domain, re-dated
            changes = rng.choice(({"organisation_id": rng.choice(partners)}, {"domain": rng.choice(DOMAINS)},
                                  {"programme_id": other_programme},
                                  {"requested_at": random_moment(rng) - timedelta(days=90)},
                                  {"started_at": None}, {"status": Status.RECEIVED}))
            db.session.execute(update(ServiceReferral).where(ServiceReferral.id == referral_id).values(**changes))
        gone = rng.sample(ids, 25)  # retention: the events first, then the referrals
        db.session.execute(delete(ServiceReferralEvent).where(ServiceReferralEvent.service_referral_id.in_(gone)))
        db.session.execute(delete(ServiceReferral).where(ServiceReferral.id.in_(gone)))
        db.session.commit()
    assert_counts_equal_live(app, users)


def test_the_counts_hold_no_empty_rows_and_follow_a_referral_until_it_is_deleted(app, make):
    world = make_world(make, app)
    requested = local_midnight(date(2026, 10, 24)) + timedelta(hours=23)  # 23:00 on Saturday, Dutch time
    referral_id = add_referral(app, world, world.partners[0], requested)
    with app.test_request_context():
        assert counts_table() == {(world.partners[0], date(2026, 10, 24), world.programme, "finances", False, 0, 1)}
        # started at 00:30 on Monday, after the clock went back: two whole days
        referral = db.session.get(ServiceReferral, referral_id)
        referral.started_at = local_midnight(date(2026, 10, 26)) + timedelta(minutes=30)
        db.session.commit()
        assert counts_table() == {(world.partners[0], date(2026, 10, 24), world.programme, "finances", True, 2, 1)}
        db.session.execute(delete(ServiceReferralEvent).where(ServiceReferralEvent.service_referral_id == referral_id))
        db.session.execute(delete(ServiceReferral).where(ServiceReferral.id == referral_id))
        db.session.commit()
        assert counts_table() == set()
