"""Waiting times and bottlenecks: the percentiles equal a reference computation (statistics.quantiles
with method="inclusive" is what percentile_cont computes) over waits in whole Dutch calendar days, on
whichever database the suite runs; client-days lost are split by whose side the delay was on."""
import random
import statistics
from datetime import date, timedelta

import pytest

from hub.referrals.service_referral_models import HoldReason, Status
from hub.reports.period import AMSTERDAM, Period, local_midnight
from tests.conftest import NOW
from tests.reports_support import add_referral, make_world

PERIOD = Period(date(2026, 1, 1), date(2026, 11, 23))


def dutch_days(requested, started) -> int:
    """Whole Dutch calendar days from the request's day to the start's day."""
    return (started.astimezone(AMSTERDAM).date() - requested.astimezone(AMSTERDAM).date()).days


def reference(days: list[float], p: float) -> float | None:
    """percentile_cont in plain Python."""
    if not days:
        return None
    if len(days) == 1:
        return days[0]
    if p == 0.5:
        return statistics.quantiles(days, n=2, method="inclusive")[0]
    return statistics.quantiles(days, n=10, method="inclusive")[8]


def get_report(client, headers, path, **query):
    response = client.get(path, query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def world(make, app):
    return make_world(make, app, partners=3)


def test_median_and_p90_equal_the_reference_on_random_data(app, client, api_login, world):
    rng = random.Random(8)
    expected = {}
    sizes = dict(zip(world.partners, (1, 2, 37), strict=True))
    for partner, size in sizes.items():
        started, count = [], 0
        for _ in range(size):
            requested = PERIOD.start + timedelta(seconds=rng.randrange(0, 300 * 86400))
            count += 1
            if rng.random() < 0.85 or size <= 2:
                wait = timedelta(seconds=rng.randrange(0, 90 * 86400))
                add_referral(app, world, partner, requested, started_at=requested + wait)
                started.append(dutch_days(requested, requested + wait))
            else:
                add_referral(app, world, partner, requested)
        # Requested before the period: counts in neither the number nor the percentiles.
        before = PERIOD.start - timedelta(days=3)
        add_referral(app, world, partner, before, started_at=before + timedelta(days=40))
        expected[partner] = (count, sorted(started))

    for headers in (api_login(world.director), api_login(world.coach)):
        report = get_report(client, headers, "/api/v1/reports/waiting-times", group_by="organisation",
                            **{"from": "2026-01-01", "to": "2026-11-23"})
        items = {item["organisation_id"]: item for item in report["items"]}
        assert set(items) == set(world.partners)
        for partner, (count, started) in expected.items():
            item = items[partner]
            assert item["count"] == count
            assert item["started"] == len(started)
            assert item["median_days"] == pytest.approx(reference(started, 0.5), abs=1e-6)
            assert item["p90_days"] == pytest.approx(reference(started, 0.9), abs=1e-6)


def test_by_domain_and_current_waits(app, client, api_login, world):
    partner = world.partners[0]
    for days_ago in (3, 40, 12, 100, 7, 55, 1):  # seven open referrals, none started
        add_referral(app, world, partner, NOW - timedelta(days=days_ago), domain="housing")
    add_referral(app, world, partner, NOW - timedelta(days=300), domain="housing", status=Status.ON_HOLD)
    add_referral(app, world, partner, NOW - timedelta(days=500), domain="housing",
                 closed_at=NOW - timedelta(days=400))  # closed: waits no more
    start = NOW - timedelta(days=30)
    add_referral(app, world, partner, start, started_at=start + timedelta(days=4.5), domain="finances")
    report = get_report(client, api_login(world.director), "/api/v1/reports/waiting-times", group_by="domain")
    items = {item["domain"]: item for item in report["items"]}
    housing = items["housing"]
    assert housing["open_waiting"] == 8
    assert housing["longest_current_waits"] == [300, 100, 55, 40, 12]
    assert housing["started"] == 0 and housing["median_days"] is None
    # requested 24 October at 11:00, started 28 October at 22:00 (Dutch time): 4 whole days
    assert items["finances"]["median_days"] == 4.0
    assert items["finances"]["p90_days"] == 4.0
    assert items["finances"]["open_waiting"] == 0


def test_a_period_in_the_past_counts_its_own_requests_only(app, client, api_login, world):
    partner = world.partners[0]
    march = local_midnight(date(2026, 3, 10))
    add_referral(app, world, partner, march, started_at=march + timedelta(days=2))
    add_referral(app, world, partner, march + timedelta(days=40), started_at=march + timedelta(days=50))
    report = get_report(client, api_login(world.director), "/api/v1/reports/waiting-times",
                        **{"from": "2026-03-01", "to": "2026-03-31"})
    (item,) = report["items"]
    assert (item["count"], item["median_days"]) == (1, pytest.approx(2.0))
    assert report["period"] == {"from": "2026-03-01", "to": "2026-03-31"}


def test_an_invalid_period_is_refused(client, api_login, world):
    headers = api_login(world.director)
    response = client.get("/api/v1/reports/waiting-times?from=2026-05-01&to=2026-04-01", headers=headers)
    assert response.status_code == 422
    response = client.get("/api/v1/reports/waiting-times?group_by=client", headers=headers)
    assert response.status_code == 422


T0 = local_midnight(date(2026, 3, 2))  # no clock change between here and the end of March


def _held_referral(app, world, partner):
    """20 days waiting: 3 on hold for the client, 3 for the municipality, 14 on the partner's side."""
    return add_referral(app, world, partner, T0, started_at=T0 + timedelta(days=20), events=[
        (Status.RECEIVED, T0 + timedelta(days=2), None),
        (Status.ON_HOLD, T0 + timedelta(days=5), HoldReason.CLIENT.value),
        (Status.RECEIVED, T0 + timedelta(days=8), None),
        (Status.ON_HOLD, T0 + timedelta(days=10), HoldReason.MUNICIPALITY_DECISION.value),
        (Status.WAITLISTED, T0 + timedelta(days=13), None),
        (Status.IN_PROGRESS, T0 + timedelta(days=20), None),
        (Status.ON_HOLD, T0 + timedelta(days=22), HoldReason.CLIENT.value),  # after the start: not waiting
    ], escalations=[T0 + timedelta(days=6), T0 + timedelta(days=9)])


def test_bottlenecks_split_the_days_by_side_and_rank_the_partners(app, client, api_login, world):
    slow, quick, unused = world.partners
    _held_referral(app, world, slow)
    add_referral(app, world, quick, T0, started_at=T0 + timedelta(days=4), events=[
        (Status.ON_HOLD, T0 + timedelta(days=1), HoldReason.CONSENT.value),
        (Status.RECEIVED, T0 + timedelta(days=2), None)], escalations=[T0 + timedelta(days=1),
                                                                      T0 + timedelta(days=2),
                                                                      T0 + timedelta(days=3)])
    report = get_report(client, api_login(world.director), "/api/v1/reports/bottlenecks",
                        **{"from": "2026-03-01", "to": "2026-04-30"})
    first, second = report["items"]
    assert first["organisation_id"] == slow
    assert (first["waiting_days"], first["partner_days"], first["client_days"], first["municipality_days"],
            first["escalations"]) == (20.0, 14.0, 3.0, 3.0, 2)
    assert (second["organisation_id"], second["waiting_days"], second["client_days"], second["partner_days"],
            second["escalations"]) == (quick, 4.0, 1.0, 3.0, 3)
    assert [month["month"] for month in report["months"]] == ["2026-03", "2026-04"]
    assert report["months"][0]["waiting_days"] == 24.0 and report["months"][1]["waiting_days"] == 0
    assert report["totals"] == {"waiting_days": 24.0, "partner_days": 17.0, "client_days": 4.0,
                                "municipality_days": 3.0, "escalations": 5}
    assert first["months"][0]["client_days"] == 3.0

    by_escalations = get_report(client, api_login(world.coach), "/api/v1/reports/bottlenecks", rank_by="escalations",
                                **{"from": "2026-03-01", "to": "2026-04-30"})
    assert [item["organisation_id"] for item in by_escalations["items"]] == [quick, slow]


def test_bottlenecks_count_only_the_days_inside_the_period(app, client, api_login, world):
    _held_referral(app, world, world.partners[0])
    still_waiting = NOW - timedelta(days=10)
    add_referral(app, world, world.partners[1], still_waiting)
    headers = api_login(world.director)
    report = get_report(client, headers, "/api/v1/reports/bottlenecks", **{"from": "2026-03-01", "to": "2026-03-10"})
    (item,) = report["items"]  # T0 + 9 days is the end of 10 March
    assert (item["waiting_days"], item["client_days"], item["municipality_days"], item["partner_days"],
            item["escalations"]) == (9.0, 3.0, 0.0, 6.0, 1)  # the second was raised on 11 March
    now_report = get_report(client, headers, "/api/v1/reports/bottlenecks",
                            **{"from": "2026-11-01", "to": "2026-11-30"})
    (waiting,) = now_report["items"]
    assert waiting["organisation_id"] == world.partners[1]
    assert waiting["waiting_days"] == pytest.approx(10.0)  # up to now, not to the end of the month
    assert [month["month"] for month in now_report["months"]] == ["2026-11"]


def test_monthly_trend_adds_up_to_the_partner_totals(app, client, api_login, world):
    long_wait = local_midnight(date(2026, 1, 20))
    add_referral(app, world, world.partners[0], long_wait, started_at=long_wait + timedelta(days=70), events=[
        (Status.ON_HOLD, long_wait + timedelta(days=25), HoldReason.CLIENT.value),
        (Status.WAITLISTED, long_wait + timedelta(days=45), None)])
    report = get_report(client, api_login(world.director), "/api/v1/reports/bottlenecks",
                        **{"from": "2026-01-01", "to": "2026-06-30"})
    (item,) = report["items"]
    assert [month["month"] for month in item["months"]] == [f"2026-0{m}" for m in range(1, 7)]
    for measure in ("waiting_days", "client_days", "partner_days"):
        assert sum(month[measure] for month in item["months"]) == pytest.approx(item[measure], abs=0.2)
    assert item["waiting_days"] == pytest.approx(70.0, abs=0.05)
    assert item["client_days"] == pytest.approx(20.0, abs=0.05)
