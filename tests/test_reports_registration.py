"""Uniform registration: counted the same way everywhere, on a hand-made history with every edge
case; small cells hidden for chain directors; targets set by the programme's own coach."""
from datetime import date

import pytest
from sqlalchemy import select

from hub.audit.models import AuditEvent
from hub.extensions import db
from hub.reports.registration import suppress
from tests.reports_support import add_client, add_trajectory, make_world

PERIOD = {"from": "2026-01-01", "to": "2026-06-30"}
D = date


@pytest.fixture
def world(make, app):
    return make_world(make, app)


@pytest.fixture
def history(app, world):
    """Eight clients' trajectories around the first half of 2026 (the period)."""
    def client(*args, **kwargs):
        return add_client(app, world, *args, **kwargs)

    def trajectory(*args, **kwargs):
        return add_trajectory(app, world, *args, **kwargs)

    a = client("female", "resident", ("trafficking_victim",))
    trajectory(a, D(2025, 10, 1), D(2026, 2, 10), "dropped_out", number=1)  # entered before the period
    trajectory(a, D(2026, 3, 1), D(2026, 4, 1), "dropped_out", number=2)  # re-entry: counts again
    trajectory(a, D(2026, 5, 1), number=3, domains=("housing", "housing", "finances"))  # and again, still open
    b = client("male", "no_residence", ("man", "undocumented"))
    trajectory(b, D(2026, 2, 1), D(2026, 5, 1), "exited", domains=("work",))
    c = client("transgender", "self_employed_only", ("transgender",))
    trajectory(c, D(2025, 5, 1), D(2026, 8, 1), "moved")  # outcome after the period: still in it at the end
    d = client("female", "resident")
    trajectory(d, D(2026, 6, 30))  # entered on the last day
    e = client("female", "resident")
    trajectory(e, D(2026, 7, 1))  # entered after the period: not counted
    f = client("female", "resident")
    trajectory(f, D(2025, 1, 1), D(2025, 12, 31), "exited")  # closed before the period: not counted
    g = client("female", "resident")
    trajectory(g, D(2026, 1, 1), D(2026, 1, 1), "other")  # entered and left on the first day
    h = client("male", "resident", ("man",))
    trajectory(h, D(2025, 6, 1), D(2026, 6, 30), "moved")  # moved on the last day
    return {"a": a, "b": b, "c": c, "d": d, "h": h}


HEADLINE = {"inflow": 5, "exited": 1, "dropped_out": 2, "moved": 1, "other": 1, "still_in_trajectory": 3,
            "unique_clients": 6}


def registration(client, headers, **query):
    response = client.get("/api/v1/reports/registration", query_string={**PERIOD, **query}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def cells(report, breakdown) -> dict:
    return {cell["value"]: cell for cell in report["breakdowns"][breakdown]}


def test_the_headline_counts_follow_the_uniform_rules(client, api_login, world, history):
    report = registration(client, api_login(world.coach), organisation_id=world.programme)
    assert {name: report[name] for name in HEADLINE} == HEADLINE
    assert report["expected"] is None and report["programmes"] == 1 and report["suppressed"] is False


def test_a_coach_sees_exact_breakdowns(client, api_login, world, history):
    report = registration(client, api_login(world.coach))
    gender = cells(report, "gender")
    assert gender["female"]["inflow"] == 4  # a's two re-entries, d, g
    assert gender["female"]["unique_clients"] == 3
    assert gender["male"]["exited"] == 1 and gender["male"]["moved"] == 1
    assert gender["transgender"]["still_in_trajectory"] == 1
    assert gender["nonbinary"] == {"value": "nonbinary", **dict.fromkeys(HEADLINE, 0)}
    groups = cells(report, "target_group")
    assert groups["man"]["unique_clients"] == 2 and groups["undocumented"]["exited"] == 1
    assert groups["trafficking_victim"]["inflow"] == 2 and groups["trafficking_victim"]["dropped_out"] == 2
    legal = cells(report, "legal_status")
    assert sum(cell["inflow"] for cell in legal.values()) == HEADLINE["inflow"]
    domains = cells(report, "domain")
    assert domains["housing"]["inflow"] == 1  # two housing goals, one trajectory
    assert domains["finances"]["still_in_trajectory"] == 1
    assert domains["work"]["exited"] == 1
    assert domains["legal"]["inflow"] == 0
    assert [cell["value"] for cell in report["breakdowns"]["gender"]] == [
        "female", "male", "transgender", "nonbinary", "unknown"]


def test_a_director_sees_exact_headlines_and_small_cells_as_less_than_five(app, client, api_login, world, history):
    for _ in range(6):
        add_trajectory(app, world, add_client(app, world, "female", "resident"), D(2026, 3, 3))
    report = registration(client, api_login(world.director))
    assert report["inflow"] == 11 and report["unique_clients"] == 12 and report["suppressed"] is True
    gender = cells(report, "gender")
    assert gender["female"]["inflow"] == 10
    assert gender["male"]["inflow"] == "<5"
    assert gender["nonbinary"]["inflow"] == "<5"  # zero is hidden too: the table's shape tells nothing
    assert cells(report, "target_group")["man"]["unique_clients"] == "<5"
    values = [cell[name] for breakdown in report["breakdowns"].values() for cell in breakdown for name in HEADLINE]
    assert all(value == "<5" or value >= 5 for value in values)


def test_suppression_hides_a_second_cell_where_the_total_would_give_the_first_away():
    rows = [{"value": "a", **dict.fromkeys(HEADLINE, 20)}, {"value": "b", **dict.fromkeys(HEADLINE, 7)},
            {"value": "c", **dict.fromkeys(HEADLINE, 2)}]
    partition = suppress(rows, partition=True)
    assert [row["inflow"] for row in partition] == [20, "<5", "<5"]
    assert [row["inflow"] for row in suppress(rows, partition=False)] == [20, 7, "<5"]
    assert rows[2]["inflow"] == 2  # the input is left alone


def test_without_a_programme_the_municipalitys_programmes_are_summed(app, make, client, api_login, world, history):
    second = make.organisation("exit_programme", municipality="utrecht")  # the same municipality, other case
    add_trajectory(app, world, add_client(app, world, programme=second), D(2026, 2, 2), programme=second)
    elsewhere = make.organisation("exit_programme", municipality="Arnhem")
    add_trajectory(app, world, add_client(app, world, programme=elsewhere), D(2026, 2, 2), programme=elsewhere)
    director = api_login(world.director)
    assert registration(client, director)["inflow"] == HEADLINE["inflow"] + 1
    assert registration(client, director)["programmes"] == 2
    assert registration(client, director, organisation_id=second)["inflow"] == 1
    refused = client.get("/api/v1/reports/registration", query_string={"organisation_id": elsewhere},
                         headers=director)
    assert refused.status_code == 404
    # A coach sees its own programme only, summed or asked for by number.
    assert registration(client, api_login(world.coach))["inflow"] == HEADLINE["inflow"]
    assert client.get("/api/v1/reports/registration", query_string={"organisation_id": second},
                      headers=api_login(world.coach, steps=1)).status_code == 404


def test_expected_comes_from_the_yearly_targets_for_the_share_of_the_year(app, make, client, api_login, world):
    coach = api_login(world.coach)
    response = client.post("/api/v1/reports/targets", json={"organisation_id": world.programme, "year": 2026,
                                                            "expected": 120}, headers=coach)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["expected"] == 120
    report = registration(client, coach)
    assert report["expected"] == 60  # 120 * 181 / 365, rounded
    assert report["expected_per_year"] == [{"year": 2026, "expected": 120}]
    whole_year = registration(client, coach, **{"from": "2026-01-01", "to": "2026-12-31"})
    assert whole_year["expected"] == 120
    # Setting it again replaces it; an administrator may set any programme's target.
    admin = api_login(make.user("admin"))
    assert client.post("/api/v1/reports/targets", json={"organisation_id": world.programme, "year": 2026,
                                                        "expected": 100}, headers=admin).status_code == 200
    assert registration(client, coach, **{"from": "2026-01-01", "to": "2026-12-31"})["expected"] == 100
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.tag == "reports:target:set")).all()
        assert [e.action.value for e in events] == ["create", "update"]
        assert all(e.client_id is None for e in events)


def test_only_the_programmes_coach_or_an_admin_sets_its_target(make, client, api_login, world):
    body = {"organisation_id": world.programme, "year": 2026, "expected": 10}
    other_coach = make.user("coach", organisation_id=make.organisation("exit_programme"))
    for account in (other_coach, world.director, make.user("partner"), make.user("referrer")):
        response = client.post("/api/v1/reports/targets", json=body, headers=api_login(account))
        assert response.status_code == 403, account.role
    admin = api_login(make.user("admin"))
    partner_org = make.organisation("housing")
    response = client.post("/api/v1/reports/targets", json={**body, "organisation_id": partner_org}, headers=admin)
    assert response.status_code == 422
    response = client.post("/api/v1/reports/targets", json={**body, "expected": -1}, headers=admin)
    assert response.status_code == 422
