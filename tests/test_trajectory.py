"""The trajectory: phases with their full history (fall-backs, two at once), the plan's goals with
their progress, closing with an outcome, re-entry that keeps the story, and the coach's caseload."""
import itertools
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import Engine

from hub import clock
from hub.audit.models import AuditEvent, AuditResult
from hub.extensions import db
from hub.referrals.models import Client, Trajectory
from tests.conftest import NOW, totp_now

OPENED = date(2026, 10, 1)  # the handoffs in these tests are accepted on this day; "today" is NOW


_steps = itertools.count(1)


def moment(day: date) -> datetime:
    """A moment on `day`, a new TOTP step each time: every sign-in needs a code not used before."""
    return datetime.combine(day, time(9, 0, 5), UTC) + timedelta(seconds=30 * (next(_steps) % 1000))


@pytest.fixture
def programme(make):
    return make.organisation("exit_programme", name="Uitstapprogramma Traject")


@pytest.fixture
def coach(make, programme):
    return make.user("coach", organisation_id=programme)


@pytest.fixture
def colleague(make, programme):
    return make.user("coach", organisation_id=programme)


@pytest.fixture
def accept(client, make, api_login, programme):
    """Hand a client over and let `coach` accept it on OPENED; returns (client id, trajectory id)."""
    tokens = {}  # one sign-in per coach: the clock goes back to OPENED, and a TOTP code is used only once

    def accept_as(coach, backup=None, **handoff):
        clock.freeze(moment(OPENED))
        handoff_id, client_id = make.handoff(programme_id=programme, **handoff)
        body = {"coach_id": coach.id, "backup_coach_id": backup.id if backup else None}
        accepter = tokens.get(coach.id) or tokens.setdefault(coach.id, api_login(coach))
        response = client.post(f"/api/v1/referrals/{handoff_id}/accept", json=body, headers=accepter)
        assert response.status_code == 200, response.get_json()
        clock.freeze(moment(NOW.date()))
        with client.application.app_context():
            trajectory_id = db.session.scalar(select(Trajectory.id).where(Trajectory.client_id == client_id))
        return client_id, trajectory_id
    return accept_as


@pytest.fixture
def headers(api_login, coach):
    """The coach signed in today (NOW); call after `accept`, which moves the clock."""
    def signed_in(account=None):
        clock.freeze(moment(NOW.date()))
        return api_login(account or coach)
    return signed_in


def _trajectories(client, client_id, headers) -> list[dict]:
    response = client.get(f"/api/v1/clients/{client_id}/trajectories", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def _start(client, trajectory_id, headers, phase, started_on, **extra):
    return client.post(f"/api/v1/trajectories/{trajectory_id}/phases",
                       json={"phase": phase, "started_on": started_on, **extra}, headers=headers)


def _periods(trajectory: dict) -> list[tuple]:
    return [(p["phase"], p["started_on"], p["ended_on"]) for p in trajectory["phases"]]


def _goal(**overrides) -> dict:
    body = {"domain": "finances", "description": "Schulden in beeld en een regeling bij de Kredietbank",
            "score": 2, "target": 7, "deadline": "2027-03-01",
            "subgoals": [{"text": "Alle schuldeisers op een rij", "deadline": "2026-12-15"},
                         {"text": "Aanmelden bij de Kredietbank"}]}
    body.update(overrides)
    return body


# --- opening and phases --------------------------------------------------------------------------

def test_accepting_the_handoff_opens_a_trajectory_in_the_contact_phase(client, accept, coach, headers, app):
    client_id, trajectory_id = accept(coach)
    [trajectory] = _trajectories(client, client_id, headers())
    assert trajectory["id"] == trajectory_id and trajectory["number"] == 1
    assert trajectory["opened_on"] == "2026-10-01" and trajectory["closed_on"] is None
    assert trajectory["current_phases"] == ["contact"]
    assert _periods(trajectory) == [("contact", "2026-10-01", None)]
    with app.app_context():
        opened = db.session.scalar(select(AuditEvent).where(AuditEvent.tag == "referrals:trajectory:opened"))
        assert opened.client_id == client_id and opened.ground.startswith("consent:")


def test_the_phase_history_keeps_every_period_including_a_fall_back(client, accept, coach, headers, app):
    client_id, trajectory_id = accept(coach)
    h = headers()
    assert _start(client, trajectory_id, h, "orientation", "2026-10-08").status_code == 201
    assert _start(client, trajectory_id, h, "execution", "2026-10-20").status_code == 201
    fall_back = _start(client, trajectory_id, h, "orientation", "2026-11-02",
                       note="Terugval: eerst de verslaving onder controle")
    assert fall_back.status_code == 201, fall_back.get_json()
    trajectory = fall_back.get_json()
    assert _periods(trajectory) == [("contact", "2026-10-01", "2026-10-08"),
                                    ("orientation", "2026-10-08", "2026-10-20"),
                                    ("execution", "2026-10-20", "2026-11-02"),
                                    ("orientation", "2026-11-02", None)]
    assert trajectory["current_phases"] == ["orientation"]
    assert trajectory["phases"][-1]["note"] == "Terugval: eerst de verslaving onder controle"
    assert _trajectories(client, client_id, h)[0]["phases"] == trajectory["phases"]
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.tag == "referrals:trajectory:phase_started",
                                                             AuditEvent.client_id == client_id)).all()
        assert len(events) == 3 and all(e.ground.startswith("consent:") and e.user_id == coach.id for e in events)
        sealed = db.session.scalar(text("SELECT note FROM trajectory_phases WHERE note IS NOT NULL"))
        assert sealed.startswith("v1:") and "verslaving" not in sealed


def test_two_phases_can_run_at_once_and_one_can_go_on_alone(client, accept, coach, headers):
    client_id, trajectory_id = accept(coach)
    h = headers()
    _start(client, trajectory_id, h, "orientation", "2026-10-08")
    both = _start(client, trajectory_id, h, "execution", "2026-10-15", parallel=True).get_json()
    assert both["current_phases"] == ["orientation", "execution"]
    again = _start(client, trajectory_id, h, "execution", "2026-10-16", parallel=True)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "phase_current"
    alone = _start(client, trajectory_id, h, "execution", "2026-11-01").get_json()
    assert alone["current_phases"] == ["execution"]
    assert _periods(alone) == [("contact", "2026-10-01", "2026-10-08"),
                               ("orientation", "2026-10-08", "2026-11-01"),
                               ("execution", "2026-10-15", None)]  # the same period goes on, unbroken


def test_a_phase_cannot_start_in_the_future_or_before_the_current_one(client, accept, coach, headers):
    _, trajectory_id = accept(coach)
    h = headers()
    future = _start(client, trajectory_id, h, "orientation", "2026-11-24")
    assert future.status_code == 422 and "started_on" in future.get_json()["error"]["fields"]
    before_opening = _start(client, trajectory_id, h, "orientation", "2026-09-30")
    assert before_opening.status_code == 422
    _start(client, trajectory_id, h, "orientation", "2026-10-10")
    backwards = _start(client, trajectory_id, h, "execution", "2026-10-09")
    assert backwards.status_code == 422 and "started_on" in backwards.get_json()["error"]["fields"]


# --- the plan ------------------------------------------------------------------------------------

def test_a_goal_keeps_every_score_so_progress_shows(client, accept, coach, headers, app):
    client_id, trajectory_id = accept(coach)
    h = headers()
    created = client.post(f"/api/v1/trajectories/{trajectory_id}/goals", json=_goal(), headers=h)
    assert created.status_code == 201, created.get_json()
    goal = created.get_json()
    assert (goal["domain"], goal["start_score"], goal["score"], goal["target"]) == ("finances", 2, 2, 7)
    assert [s["text"] for s in goal["subgoals"]] == ["Alle schuldeisers op een rij", "Aanmelden bij de Kredietbank"]
    first_step = goal["subgoals"][0]["id"]

    h = _login_on(client, coach, date(2026, 12, 10))  # some weeks later
    progress = client.post(f"/api/v1/goals/{goal['id']}/progress",
                           json={"score": 4, "note": "Overzicht van de schulden is klaar",
                                 "subgoals_done": [first_step]}, headers=h)
    assert progress.status_code == 201, progress.get_json()
    goal = progress.get_json()
    assert [p["score"] for p in goal["progress"]] == [2, 4] and goal["score"] == 4 and goal["start_score"] == 2
    assert goal["subgoals"][0]["done_on"] == "2026-12-10" and goal["subgoals"][1]["done_on"] is None
    assert goal["achieved_on"] is None

    reached = client.post(f"/api/v1/goals/{goal['id']}/progress", json={"score": 7}, headers=h).get_json()
    assert reached["achieved_on"] == "2026-12-10" and [p["score"] for p in reached["progress"]] == [2, 4, 7]
    slipped = client.post(f"/api/v1/goals/{goal['id']}/progress", json={"score": 5}, headers=h).get_json()
    assert slipped["achieved_on"] is None and [p["score"] for p in slipped["progress"]] == [2, 4, 7, 5]

    [trajectory] = _trajectories(client, client_id, h)
    assert [p["score"] for p in trajectory["goals"][0]["progress"]] == [2, 4, 7, 5]
    assert trajectory["goals"][0]["progress"][1]["note"] == "Overzicht van de schulden is klaar"
    with app.app_context():
        notes = db.session.scalars(text("SELECT note FROM trajectory_goal_progress WHERE note IS NOT NULL")).all()
        texts = db.session.scalars(text("SELECT text FROM trajectory_subgoals")).all()
        assert notes and all(n.startswith("v1:") and "schulden" not in n for n in notes)
        assert texts and all(t.startswith("v1:") and "Kredietbank" not in t for t in texts)
        tags = set(db.session.scalars(select(AuditEvent.tag).where(AuditEvent.client_id == client_id)))
        assert {"referrals:trajectory:goal_added", "referrals:trajectory:progress_recorded",
                "referrals:trajectory:read"} <= tags


def _login_on(client, account, day: date) -> dict:
    clock.freeze(moment(day))
    response = client.post("/api/v1/auth/login", json={"email": account.email, "password": account.password,
                                                       "otp": totp_now(account)})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def test_sub_goals_of_another_goal_cannot_be_ticked_off(client, accept, coach, headers):
    _, trajectory_id = accept(coach)
    h = headers()
    one = client.post(f"/api/v1/trajectories/{trajectory_id}/goals", json=_goal(), headers=h).get_json()
    other = client.post(f"/api/v1/trajectories/{trajectory_id}/goals", json=_goal(domain="housing"),
                        headers=h).get_json()
    response = client.post(f"/api/v1/goals/{one['id']}/progress",
                           json={"score": 3, "subgoals_done": [other["subgoals"][0]["id"]]}, headers=h)
    assert response.status_code == 422 and "subgoals_done" in response.get_json()["error"]["fields"]


def test_the_coach_revises_a_goal_as_the_plan_changes_and_its_scores_stay(client, accept, coach, headers, app):
    client_id, trajectory_id = accept(coach)
    h = headers()
    goal = client.post(f"/api/v1/trajectories/{trajectory_id}/goals", json=_goal(), headers=h).get_json()
    client.post(f"/api/v1/goals/{goal['id']}/progress", json={"score": 6}, headers=h)

    revised = client.patch(f"/api/v1/goals/{goal['id']}", headers=h, json={
        "target": 6, "deadline": "2027-06-01", "description": "Een regeling bij de Kredietbank",
        "add_subgoals": [{"text": "Budgetcursus volgen", "deadline": "2027-02-01"}]})
    assert revised.status_code == 200, revised.get_json()
    goal = revised.get_json()
    assert (goal["target"], goal["deadline"]) == (6, "2027-06-01")
    assert goal["description"] == "Een regeling bij de Kredietbank"
    assert goal["achieved_on"] == NOW.date().isoformat()  # the score (6) reaches the new target
    assert [p["score"] for p in goal["progress"]] == [2, 6]  # the history stays
    assert [(s["text"], s["deadline"]) for s in goal["subgoals"]] == [
        ("Alle schuldeisers op een rij", "2026-12-15"), ("Aanmelden bij de Kredietbank", None),
        ("Budgetcursus volgen", "2027-02-01")]
    raised = client.patch(f"/api/v1/goals/{goal['id']}", json={"target": 9, "description": None}, headers=h).get_json()
    assert raised["achieved_on"] is None and raised["description"] is None

    with app.app_context():
        details = db.session.scalars(select(AuditEvent.detail).where(
            AuditEvent.tag == "referrals:trajectory:goal_revised", AuditEvent.client_id == client_id)
            .order_by(AuditEvent.id)).all()
        assert details == ["changed=add_subgoals,deadline,description,target", "changed=description,target"]
        stored = db.session.scalar(text("SELECT description FROM trajectory_goals WHERE description IS NOT NULL"))
        assert stored is None or "Kredietbank" not in stored


@pytest.mark.parametrize(("body", "field"), [
    ({}, None),  # nothing to change
    ({"target": 2}, "target"),  # not above the score when the goal was set
    ({"target": 11}, "target"),
    ({"deadline": "2026-01-01"}, "deadline"),
    ({"add_subgoals": [{"text": "Te laat", "deadline": "2026-01-01"}]}, "add_subgoals"),
    ({"add_subgoals": [{"text": f"Stap {n}"} for n in range(19)]}, "add_subgoals"),  # 2 + 19 > 20
    ({"add_subgoals": []}, "add_subgoals"),
])
def test_a_revision_that_does_not_fit_is_refused_and_changes_nothing(client, accept, coach, headers, body, field):
    client_id, trajectory_id = accept(coach)
    h = headers()
    goal = client.post(f"/api/v1/trajectories/{trajectory_id}/goals", json=_goal(), headers=h).get_json()
    response = client.patch(f"/api/v1/goals/{goal['id']}", json=body, headers=h)
    assert response.status_code == 422, response.get_json()
    if field:
        assert field in response.get_json()["error"]["fields"]
    [trajectory] = _trajectories(client, client_id, h)
    assert trajectory["goals"][0]["target"] == 7 and len(trajectory["goals"][0]["subgoals"]) == 2


def test_a_closed_trajectorys_goals_cannot_be_revised(client, accept, coach, headers):
    _, trajectory_id = accept(coach)
    h = headers()
    goal = client.post(f"/api/v1/trajectories/{trajectory_id}/goals", json=_goal(), headers=h).get_json()
    closed = client.post(f"/api/v1/trajectories/{trajectory_id}/close",
                         json={"outcome": "moved", "closed_on": NOW.date().isoformat()}, headers=h)
    assert closed.status_code == 200, closed.get_json()
    assert client.patch(f"/api/v1/goals/{goal['id']}", json={"target": 9}, headers=h).status_code == 409


# --- closing and re-entry ------------------------------------------------------------------------

def test_closing_with_an_exit_records_outcome_destination_and_date(client, accept, coach, headers, app):
    _, trajectory_id = accept(coach)
    h = headers()
    _start(client, trajectory_id, h, "aftercare", "2026-11-01")
    closed = client.post(f"/api/v1/trajectories/{trajectory_id}/close",
                         json={"outcome": "exited", "destination": "paid_work", "closed_on": "2026-11-20",
                               "note": "Werkt nu in de thuiszorg"}, headers=h)
    assert closed.status_code == 200, closed.get_json()
    trajectory = closed.get_json()
    assert (trajectory["outcome"], trajectory["destination"], trajectory["closed_on"]) == (
        "exited", "paid_work", "2026-11-20")
    assert trajectory["current_phases"] == [] and trajectory["phases"][-1]["ended_on"] == "2026-11-20"
    assert trajectory["closing_note"] == "Werkt nu in de thuiszorg"

    again = client.post(f"/api/v1/trajectories/{trajectory_id}/close",
                        json={"outcome": "moved", "closed_on": "2026-11-21"}, headers=h)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "trajectory_closed"
    assert client.post(f"/api/v1/trajectories/{trajectory_id}/goals", json=_goal(), headers=h).status_code == 409
    assert _start(client, trajectory_id, h, "orientation", "2026-11-22").status_code == 409
    with app.app_context():
        assert db.session.get(Trajectory, trajectory_id).outcome == "exited"


@pytest.mark.parametrize("body, field", [
    ({"outcome": "exited", "closed_on": "2026-11-20"}, "destination"),
    ({"outcome": "dropped_out", "destination": "education", "closed_on": "2026-11-20"}, "destination"),
    ({"outcome": "exited", "destination": "holiday", "closed_on": "2026-11-20"}, "destination"),
    ({"outcome": "vanished", "closed_on": "2026-11-20"}, "outcome"),
    ({"outcome": "moved", "closed_on": "2026-11-24"}, "closed_on"),
    ({"outcome": "moved", "closed_on": "2026-09-01"}, "closed_on"),
    ({"outcome": "moved"}, "closed_on"),
])
def test_a_close_that_does_not_add_up_is_refused_naming_the_field(client, accept, coach, headers, body, field):
    _, trajectory_id = accept(coach)
    response = client.post(f"/api/v1/trajectories/{trajectory_id}/close", json=body, headers=headers())
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]


def test_re_entry_after_a_drop_out_opens_a_new_trajectory_that_keeps_the_story(client, accept, coach, headers, app):
    client_id, first_id = accept(coach)
    h = headers()
    client.post(f"/api/v1/trajectories/{first_id}/goals", json=_goal(), headers=h)
    still_open = client.post(f"/api/v1/clients/{client_id}/trajectories", json={}, headers=h)
    assert still_open.status_code == 409 and still_open.get_json()["error"]["code"] == "trajectory_open"
    dropped = client.post(f"/api/v1/trajectories/{first_id}/close",
                          json={"outcome": "dropped_out", "closed_on": "2026-11-02"}, headers=h)
    assert dropped.status_code == 200
    early = client.post(f"/api/v1/clients/{client_id}/trajectories", json={"opened_on": "2026-11-01"}, headers=h)
    assert early.status_code == 422 and "opened_on" in early.get_json()["error"]["fields"]

    reentry = client.post(f"/api/v1/clients/{client_id}/trajectories", json={"opened_on": "2026-11-20"}, headers=h)
    assert reentry.status_code == 201, reentry.get_json()
    second = reentry.get_json()
    assert second["client_id"] == client_id and second["number"] == 2 and second["previous_id"] == first_id
    assert second["current_phases"] == ["contact"] and second["goals"] == []

    listed = _trajectories(client, client_id, h)
    assert [t["number"] for t in listed] == [2, 1]
    assert listed[1]["outcome"] == "dropped_out" and len(listed[1]["goals"]) == 1  # the old plan stays readable
    dossier = client.get(f"/api/v1/clients/{client_id}", headers=h).get_json()
    assert dossier["story"]["summary"] == "Werkt sinds 2019 in de raamprostitutie en wil stoppen."
    assert {d["domain"] for d in dossier["story"]["domains"]} == {"finances", "housing"}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Client)) == 1
        assert db.session.scalar(select(AuditEvent.ground).where(
            AuditEvent.tag == "referrals:trajectory:reentered")).startswith("consent:")
    twice = client.post(f"/api/v1/clients/{client_id}/trajectories", json={}, headers=h)
    assert twice.status_code == 409


def test_the_database_refuses_a_second_open_trajectory_for_a_client(client, accept, coach, app):
    """The backstop for two re-entries at the same moment: one open trajectory per client."""
    from sqlalchemy.exc import IntegrityError

    client_id, first_id = accept(coach)
    with app.app_context():
        first = db.session.get(Trajectory, first_id)
        db.session.add(Trajectory(client_id=client_id, number=2, programme_id=first.programme_id,
                                  handoff_id=first.handoff_id, opened_on=NOW.date(), opened_by_id=coach.id))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


# --- the caseload --------------------------------------------------------------------------------

def _add_goal(client, trajectory_id, h, deadline, domain="finances"):
    response = client.post(f"/api/v1/trajectories/{trajectory_id}/goals",
                           json=_goal(deadline=deadline, domain=domain, subgoals=[]), headers=h)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_the_caseload_lists_own_clients_and_those_backed_up_for_a_colleague(
        client, accept, make, programme, coach, colleague, headers):
    third = make.user("coach", organisation_id=programme)
    mine_with_goals, t1 = accept(coach, backup=colleague)
    mine_without, t2 = accept(coach)
    backed_up, t3 = accept(colleague, backup=coach)
    not_mine, _t4 = accept(colleague, backup=third)
    closed, t5 = accept(coach)
    h = headers()
    _add_goal(client, t1, h, "2027-02-01")
    _add_goal(client, t1, h, "2027-01-15", domain="housing")
    achieved = _add_goal(client, t1, h, "2026-12-01", domain="work")
    client.post(f"/api/v1/goals/{achieved['id']}/progress", json={"score": 8}, headers=h)
    _start(client, t1, h, "orientation", "2026-11-03")
    _start(client, t1, h, "execution", "2026-11-13", parallel=True)
    client.post(f"/api/v1/trajectories/{t5}/close", json={"outcome": "moved", "closed_on": "2026-11-20"}, headers=h)
    colleague_h = headers(colleague)
    _add_goal(client, t3, colleague_h, "2026-12-24")

    page = client.get("/api/v1/caseload", headers=h)
    assert page.status_code == 200, page.get_json()
    items = page.get_json()["items"]
    assert [i["client_id"] for i in items] == [backed_up, mine_with_goals, mine_without]  # nearest deadline first
    entry = {i["client_id"]: i for i in items}
    assert entry[mine_with_goals]["alias"] == "Roos"
    assert entry[mine_with_goals]["open_goals"] == 2 and entry[mine_with_goals]["next_deadline"] == "2027-01-15"
    assert [p["phase"] for p in entry[mine_with_goals]["phases"]] == ["orientation", "execution"]
    assert [p["days"] for p in entry[mine_with_goals]["phases"]] == [20, 10]
    assert entry[mine_with_goals]["days_in_phase"] == 10 and entry[mine_with_goals]["as_backup"] is False
    assert entry[mine_without]["phases"] == [{"phase": "contact", "started_on": "2026-10-01", "days": 53}]
    assert entry[mine_without]["open_goals"] == 0 and entry[mine_without]["next_deadline"] is None
    assert entry[backed_up]["as_backup"] is True and entry[backed_up]["coach_id"] == colleague.id
    assert not_mine not in entry and closed not in entry

    absent = client.get(f"/api/v1/caseload?coach_id={colleague.id}", headers=h).get_json()["items"]
    assert [i["client_id"] for i in absent] == [backed_up]
    own = client.get(f"/api/v1/caseload?coach_id={coach.id}", headers=h).get_json()["items"]
    assert [i["client_id"] for i in own] == [mine_with_goals, mine_without]
    outsider = make.user("coach")
    refused = client.get(f"/api/v1/caseload?coach_id={outsider.id}", headers=h)
    assert refused.status_code == 422 and "coach_id" in refused.get_json()["error"]["fields"]


def test_the_caseload_pages_and_each_client_shown_is_audited(client, accept, coach, headers, app):
    clients = [accept(coach)[0] for _ in range(3)]
    h = headers()
    first = client.get("/api/v1/caseload?per_page=2", headers=h).get_json()
    second = client.get("/api/v1/caseload?per_page=2&page=2", headers=h).get_json()
    assert first["has_next"] is True and second["has_next"] is False
    assert sorted(i["client_id"] for i in first["items"] + second["items"]) == sorted(clients)
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.tag == "referrals:caseload:read")).all()
        assert sorted(e.client_id for e in events) == sorted(clients)
        assert all(e.ground.startswith("consent:") and e.user_id == coach.id for e in events)


def test_a_client_whose_handoff_consent_is_withdrawn_leaves_the_caseload(client, accept, coach, headers):
    kept, _ = accept(coach)
    withdrawn, _ = accept(coach)
    h = headers()
    consent_id = client.get(f"/api/v1/clients/{withdrawn}/consents", headers=h).get_json()["items"][0]["id"]
    response = client.post(f"/api/v1/consents/{consent_id}/withdraw", json={"reason": "Wil even niets"}, headers=h)
    assert response.status_code == 200, response.get_json()
    items = client.get("/api/v1/caseload", headers=h).get_json()["items"]
    assert [i["client_id"] for i in items] == [kept]
    assert client.get(f"/api/v1/clients/{withdrawn}/trajectories", headers=h).status_code == 404


def _selects_during(app, call) -> int:
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        call()
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    return len(statements)


def test_the_caseload_costs_the_same_queries_for_two_clients_as_for_six(client, accept, coach, colleague, headers,
                                                                       app):
    for _ in range(6):
        _, busy = accept(coach)
    for _ in range(2):
        _, quiet = accept(colleague)
    h, colleague_h = headers(), headers(colleague)
    for trajectory_id, login in ((busy, h), (quiet, colleague_h)):
        _add_goal(client, trajectory_id, login, "2027-01-01")
        _start(client, trajectory_id, login, "orientation", "2026-11-01")

    def load(login, into):
        response = client.get("/api/v1/caseload", headers=login)
        assert response.status_code == 200
        into.extend(response.get_json()["items"])

    small, large = [], []
    small_count = _selects_during(app, lambda: load(colleague_h, small))
    large_count = _selects_during(app, lambda: load(h, large))
    assert (len(small), len(large)) == (2, 6)
    assert large_count == small_count


def test_the_client_trajectories_cost_the_same_queries_however_many_goals(client, accept, coach, headers, app):
    client_id, trajectory_id = accept(coach)
    h = headers()
    _add_goal(client, trajectory_id, h, "2027-01-01")
    small = _selects_during(app, lambda: _trajectories(client, client_id, h))
    for domain in ("housing", "work", "social"):
        goal = _add_goal(client, trajectory_id, h, "2027-01-01", domain=domain)
        client.post(f"/api/v1/goals/{goal['id']}/progress", json={"score": 3}, headers=h)
    _start(client, trajectory_id, h, "orientation", "2026-11-01")
    assert _selects_during(app, lambda: _trajectories(client, client_id, h)) == small


# --- who may, and bad input ----------------------------------------------------------------------

def _requests(client_id, trajectory_id, goal_id):
    return [
        ("GET", f"/api/v1/clients/{client_id}/trajectories", None),
        ("POST", f"/api/v1/clients/{client_id}/trajectories", {}),
        ("POST", f"/api/v1/trajectories/{trajectory_id}/phases", {"phase": "orientation", "started_on": "2026-11-01"}),
        ("POST", f"/api/v1/trajectories/{trajectory_id}/goals", _goal()),
        ("POST", f"/api/v1/goals/{goal_id}/progress", {"score": 5}),
        ("PATCH", f"/api/v1/goals/{goal_id}", {"target": 9}),
        ("POST", f"/api/v1/trajectories/{trajectory_id}/close", {"outcome": "moved", "closed_on": "2026-11-20"}),
    ]


@pytest.mark.parametrize("role, status", [("coach", 404), ("referrer", 403), ("partner", 403), ("director", 403),
                                          ("admin", 403)])
def test_only_the_programmes_coaches_may_see_or_change_the_trajectory(
        client, accept, coach, headers, make, app, role, status):
    client_id, trajectory_id = accept(coach)
    goal_id = client.post(f"/api/v1/trajectories/{trajectory_id}/goals", json=_goal(),
                          headers=headers()).get_json()["id"]
    outsider = make.user(role)  # a coach of another programme, or another role
    h = headers(outsider)
    with app.app_context():
        before = db.session.scalar(select(func.max(AuditEvent.id)))
    for method, url, body in _requests(client_id, trajectory_id, goal_id):
        response = client.open(url, method=method, json=body, headers=h)
        assert response.status_code == status, f"{method} {url}"
        assert "Roos" not in response.get_data(as_text=True)
    if role != "coach":
        assert client.get("/api/v1/caseload", headers=h).status_code == 403
    with app.app_context():
        refusals = db.session.scalars(select(AuditEvent).where(AuditEvent.id > before,
                                                               AuditEvent.result == AuditResult.REFUSED)).all()
        assert len(refusals) >= 6 and {e.user_id for e in refusals} == {outsider.id}
        trajectory = db.session.get(Trajectory, trajectory_id)
        assert trajectory.closed_on is None and len(trajectory.phases) == 1 and len(trajectory.goals) == 1
        assert len(trajectory.goals[0].progress) == 1 and trajectory.goals[0].target == 7


def test_ids_that_do_not_exist_answer_404(client, accept, coach, headers):
    accept(coach)
    h = headers()
    for method, url, body in _requests(999_999, 999_999, 999_999):
        assert client.open(url, method=method, json=body, headers=h).status_code == 404, url


def test_an_other_programmes_coach_does_not_see_the_clients_in_its_caseload(client, accept, coach, make, headers):
    accept(coach)
    stranger = make.user("coach")
    assert client.get("/api/v1/caseload", headers=headers(stranger)).get_json()["items"] == []


@pytest.mark.parametrize("path, body, field", [
    ("goals", _goal(score=11), "score"),
    ("goals", _goal(score=0), "score"),
    ("goals", _goal(target=12), "target"),
    ("goals", _goal(domain="astrology"), "domain"),
    ("goals", _goal(score=6, target=4), "target"),
    ("goals", _goal(deadline="2026-11-01"), "deadline"),
    ("goals", _goal(deadline="morgen"), "deadline"),
    ("goals", {"domain": "housing", "score": 3}, "target"),
    ("goals", _goal(subgoals=[{"text": ""}]), "subgoals"),
    ("phases", {"phase": "relapse", "started_on": "2026-11-01"}, "phase"),
    ("phases", {"phase": "orientation", "started_on": "2026-12-01"}, "started_on"),
    ("phases", {"phase": "orientation", "started_on": "2026-11-01", "parallel": "maybe"}, "parallel"),
])
def test_bad_plan_and_phase_input_is_refused_naming_the_field(client, accept, coach, headers, app, path, body,
                                                             field):
    _, trajectory_id = accept(coach)
    response = client.post(f"/api/v1/trajectories/{trajectory_id}/{path}", json=body, headers=headers())
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    with app.app_context():
        trajectory = db.session.get(Trajectory, trajectory_id)
        assert trajectory.goals == [] and len(trajectory.phases) == 1


@pytest.mark.parametrize("body", [{"score": 11}, {"score": 0}, {"score": "veel"}, {}])
def test_a_progress_score_outside_1_to_10_is_refused(client, accept, coach, headers, body):
    _, trajectory_id = accept(coach)
    h = headers()
    goal = client.post(f"/api/v1/trajectories/{trajectory_id}/goals", json=_goal(), headers=h).get_json()
    response = client.post(f"/api/v1/goals/{goal['id']}/progress", json=body, headers=h)
    assert response.status_code == 422 and "score" in response.get_json()["error"]["fields"]


def test_the_dossier_shows_the_trajectory_with_its_phase(client, api_login, make):
    programme = make.organisation("exit_programme")
    coach = make.user("coach", organisation_id=programme)
    handoff_id, client_id = make.handoff(programme_id=programme)
    headers = api_login(coach)
    client.post(f"/api/v1/referrals/{handoff_id}/accept", json={}, headers=headers)
    dossier = client.get(f"/api/v1/clients/{client_id}", headers=headers).get_json()
    assert [(t["number"], t["current_phases"]) for t in dossier["trajectories"]] == [(1, ["contact"])]


def test_a_trajectory_accepted_after_midnight_in_the_netherlands_begins_on_that_dutch_day(client, make, programme,
                                                                                          coach, api_login, app):
    """23:30 UTC on 31 December is 00:30 on 1 January in the Netherlands: the trajectory begins in 2027
    (and counts in 2027's registration), and that day is "today", not the future, for closing it."""
    new_year = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert clock.local_today(new_year) == date(2027, 1, 1)
    clock.freeze(new_year)
    handoff_id, client_id = make.handoff(programme_id=programme)
    headers = api_login(coach)
    assert client.post(f"/api/v1/referrals/{handoff_id}/accept", json={"coach_id": coach.id},
                       headers=headers).status_code == 200
    [trajectory] = _trajectories(client, client_id, headers)
    assert trajectory["opened_on"] == "2027-01-01" and _periods(trajectory) == [("contact", "2027-01-01", None)]
    closed = client.post(f"/api/v1/trajectories/{trajectory['id']}/close", headers=headers,
                         json={"outcome": "moved", "closed_on": "2027-01-01"})
    assert closed.status_code == 200, closed.get_json()
    future = client.post(f"/api/v1/clients/{client_id}/trajectories", headers=headers,
                         json={"opened_on": "2027-01-02"})
    assert future.status_code == 422 and "opened_on" in future.get_json()["error"]["fields"]
