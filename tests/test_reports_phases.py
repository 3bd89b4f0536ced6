"""The phase funnel: per phase, how many trajectories reached it and how many are in it, over a
hand-made history (fall-backs, parallel phases, outside the period, another programme); who may see
it; small counts hidden for chain directors; the page with its chart, table, CSV and empty state."""
import csv
import io
import re
from datetime import date

import pytest
from sqlalchemy import select

from hub.audit.models import AuditAction, AuditEvent, AuditResult
from hub.extensions import db
from hub.reports.funnel import phase_funnel
from hub.reports.period import Period
from tests.reports_support import ALIAS, add_client, add_trajectory, make_world
from tests.web import next_step, signed_in

PERIOD = Period(date(2026, 1, 1), date(2026, 6, 30))
QUERY = "from=2026-01-01&to=2026-06-30"
API = f"/api/v1/reports/phase-funnel?{QUERY}"
PAGE = f"/reports/phases?{QUERY}"


def _trajectory(app, world, opened_on, phases, closed_on=None, outcome=None, programme=None):
    client_id = add_client(app, world, programme=programme)
    return add_trajectory(app, world, client_id, opened_on, closed_on, outcome, phases=phases, programme=programme)


@pytest.fixture
def history(make, app):
    """Utrecht's programme with six trajectories and another Utrecht programme with one."""
    world = make_world(make, app)
    # Fell back from orientation to contact, then on to execution (still there).
    _trajectory(app, world, date(2026, 2, 1), (
        ("contact", date(2026, 2, 1), date(2026, 2, 10)), ("orientation", date(2026, 2, 10), date(2026, 3, 1)),
        ("contact", date(2026, 3, 1), date(2026, 3, 15)), ("orientation", date(2026, 3, 15), date(2026, 4, 1)),
        ("execution", date(2026, 4, 1), None)))
    # Orientation and execution in parallel.
    _trajectory(app, world, date(2026, 1, 5), (
        ("contact", date(2026, 1, 5), date(2026, 1, 20)), ("orientation", date(2026, 1, 20), None),
        ("execution", date(2026, 2, 1), None)))
    # Closed before the period: not counted at all.
    _trajectory(app, world, date(2025, 3, 1), (
        ("contact", date(2025, 3, 1), date(2025, 4, 1)), ("orientation", date(2025, 4, 1), date(2025, 12, 31))),
        closed_on=date(2025, 12, 31), outcome="dropped_out")
    # Opened in the period; execution only after it: counts in contact (and is in it on the last day).
    _trajectory(app, world, date(2026, 5, 1), (
        ("contact", date(2026, 5, 1), date(2026, 7, 10)), ("execution", date(2026, 7, 10), None)))
    # Opened before the period, in aftercare since then: counts in every phase it reached.
    _trajectory(app, world, date(2025, 5, 1), (
        ("contact", date(2025, 5, 1), date(2025, 6, 1)), ("execution", date(2025, 6, 1), date(2025, 12, 1)),
        ("aftercare", date(2025, 12, 1), None)))
    # Closed in the period: reached contact, in no phase on the last day.
    _trajectory(app, world, date(2026, 1, 10), (("contact", date(2026, 1, 10), date(2026, 3, 1)),),
                closed_on=date(2026, 3, 1), outcome="moved")
    # Opened after the period.
    _trajectory(app, world, date(2026, 8, 1), (("contact", date(2026, 8, 1), None),))
    other = make.organisation("exit_programme", municipality=world.municipality)
    _trajectory(app, world, date(2026, 2, 1), (("contact", date(2026, 2, 1), None),), programme=other)
    world.other_programme = other
    return world


def _by_phase(report) -> dict:
    return {item["phase"]: (item["reached"], item["current"]) for item in report["phases"]}


def test_each_trajectory_counts_once_in_every_phase_it_reached_by_the_last_day(app, history):
    with app.test_request_context():
        report = phase_funnel([history.programme], PERIOD, suppress_small=False)
    assert report["trajectories"] == 5 and report["programmes"] == 1
    assert _by_phase(report) == {"contact": (5, 1), "orientation": (2, 1), "execution": (3, 2), "aftercare": (1, 1)}
    assert [item["phase"] for item in report["phases"]] == ["contact", "orientation", "execution", "aftercare"]


def test_the_funnel_of_a_later_period_sees_the_phase_reached_after_the_first(app, history):
    with app.test_request_context():
        report = phase_funnel([history.programme], Period(date(2026, 7, 1), date(2026, 7, 31)), suppress_small=False)
    # The closed trajectory is gone; the one that entered execution on 10 July now counts there.
    assert report["trajectories"] == 4
    assert _by_phase(report) == {"contact": (4, 0), "orientation": (2, 1), "execution": (4, 3), "aftercare": (1, 1)}


def test_programmes_are_summed_and_nothing_is_counted_without_programmes(app, history):
    with app.test_request_context():
        both = phase_funnel([history.programme, history.other_programme], PERIOD, suppress_small=False)
        none = phase_funnel([], PERIOD, suppress_small=False)
    assert both["trajectories"] == 6 and _by_phase(both)["contact"] == (6, 2)
    assert none["trajectories"] == 0 and set(_by_phase(none).values()) == {(0, 0)}


def test_a_coach_sees_its_own_programme_only(client, api_login, history):
    headers = api_login(history.coach)
    body = client.get(API, headers=headers).get_json()
    assert body["trajectories"] == 5 and body["suppressed"] is False
    assert body["phases"][0] == {"phase": "contact", "reached": 5, "current": 1}
    other = client.get(f"{API}&organisation_id={history.other_programme}", headers=headers)
    assert other.status_code == 404 and other.get_json()["error"]["code"] == "not_found"


def test_a_director_sees_its_municipality_with_small_counts_hidden(client, api_login, history):
    headers = api_login(history.director)
    body = client.get(API, headers=headers).get_json()
    assert body["programmes"] == 2 and body["trajectories"] == 6 and body["suppressed"] is True
    assert _by_phase(body) == {"contact": (6, "<5"), "orientation": ("<5", "<5"), "execution": ("<5", "<5"),
                               "aftercare": ("<5", "<5")}
    one = client.get(f"{API}&organisation_id={history.programme}", headers=headers).get_json()
    assert one["programmes"] == 1 and one["trajectories"] == 5 and _by_phase(one)["contact"] == (5, "<5")


def test_a_director_of_another_municipality_sees_none_of_it(make, app, client, api_login, history):
    arnhem = make.user("director", organisation_id=make.organisation("municipality", municipality="Arnhem"))
    headers = api_login(arnhem)
    body = client.get(API, headers=headers).get_json()
    assert body["programmes"] == 0 and body["trajectories"] == 0
    response = client.get(f"{API}&organisation_id={history.programme}", headers=headers)
    assert response.status_code == 404
    with app.app_context():
        refused = db.session.scalars(select(AuditEvent).where(AuditEvent.tag == "reports:phase_funnel:refused")).all()
    assert [(event.result, event.object_id, event.user_id) for event in refused] == [
        (AuditResult.REFUSED, str(history.programme), arnhem.id)]


@pytest.mark.parametrize("role", ["partner", "referrer", "admin"])
def test_other_roles_are_refused_the_funnel(make, client, api_login, role):
    account = make.user(role)
    response = client.get(API, headers=api_login(account))
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"
    next_step()
    signed_in(client, account)
    assert client.get("/reports/phases").status_code == 403
    assert client.get("/reports/phases?format=csv").status_code == 403


def test_a_bad_period_or_programme_is_a_validation_error(client, api_login, history):
    headers = api_login(history.coach)
    for query in ("from=2026-07-01&to=2026-06-01", "organisation_id=abc", "from=2001-01-01&to=2026-06-30"):
        response = client.get(f"/api/v1/reports/phase-funnel?{query}", headers=headers)
        assert response.status_code == 422, query
        assert response.get_json()["error"]["code"] == "validation_error"


def test_reading_and_downloading_the_funnel_are_audited_without_a_client(app, client, api_login, history):
    client.get(API, headers=api_login(history.director))
    next_step()
    signed_in(client, history.director)
    client.get(PAGE)
    client.get(f"{PAGE}&format=csv")
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.tag.like("reports:phase_funnel:%"))
                                    .order_by(AuditEvent.id)).all()
    assert [(e.tag, e.action) for e in events] == [
        ("reports:phase_funnel:read", AuditAction.SEARCH), ("reports:phase_funnel:read", AuditAction.SEARCH),
        ("reports:phase_funnel:exported", AuditAction.EXPORT)]
    assert all(e.client_id is None and e.detail.startswith("2026-01-01..2026-06-30") for e in events)


def test_the_page_draws_the_funnel_as_svg_beside_the_table(client, history):
    signed_in(client, history.coach)
    page = client.get(PAGE).get_data(as_text=True)
    assert page.count("<svg") == 1 and 'role="img"' in page
    assert 'aria-labelledby="phase-funnel-chart-title phase-funnel-chart-desc"' in page
    assert '<title id="phase-funnel-chart-title">Trajecten per bereikte fase</title>' in page  # Dutch by default
    assert "<script" not in page and "<style" not in page and "charts.css" in page
    assert "<table" in page and "oriëntatiefase" in page and ALIAS not in page


def test_the_director_page_shows_hidden_counts_as_hidden_and_leaves_them_out_of_the_chart(client, history):
    signed_in(client, history.director)
    page = client.get(PAGE).get_data(as_text=True)
    assert "<td>&lt;5</td>" in page and "<svg" in page
    chart = page[page.index("<svg"):page.index("</svg>")]
    assert re.findall(r'<text[^>]*class="value">([^<]*)</text>', chart) == ["6"]  # contact; the hidden not drawn


def test_the_page_without_trajectories_says_so_and_draws_no_chart(make, client):
    coach = make.user("coach", organisation_id=make.organisation("exit_programme"))
    signed_in(client, coach)
    response = client.get(PAGE)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<svg" not in page and "Er liep geen traject in deze periode." in page
    assert page.count("<td>0</td>") == 8  # every phase still listed


def test_the_funnel_downloads_as_csv(client, history):
    signed_in(client, history.coach)
    response = client.get(f"{PAGE}&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="phases-20260101-20260630.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows == [["phase", "reached", "current"], ["contact", "5", "1"], ["orientation", "2", "1"],
                    ["execution", "3", "2"], ["aftercare", "1", "1"], ["trajectories", "5", ""]]
