"""The trajectory on the dossier: the coach sees its phase and plan, starts the next phase, adds goals,
records their progress and closes the trajectory with its outcome; what does not fit comes back with
its mistakes and changes nothing; nobody else may do any of it."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from hub.audit.models import AuditEvent
from hub.auth.models import User
from hub.extensions import db
from hub.referrals.models import Goal, Handoff, Trajectory
from tests.conftest import NOW
from tests.test_web_handoff import csrf, post, sign_in
from tests.web import next_step


@pytest.fixture
def programme(make):
    return make.organisation("exit_programme", name="Uitstapprogramma Traject")


@pytest.fixture
def coach(make, programme):
    return make.user("coach", organisation_id=programme)


@pytest.fixture
def accepted(app, make, programme, coach):
    """(client id, trajectory id) of a client handed over and accepted by the coach."""
    from hub.referrals.service import accept_handoff

    handoff_id, client_id = make.handoff(programme_id=programme)
    with app.test_request_context():
        accept_handoff(db.session.get(User, coach.id), db.session.get(Handoff, handoff_id), NOW)
        db.session.commit()
        trajectory_id = db.session.scalar(select(Trajectory.id).where(Trajectory.client_id == client_id))
    return client_id, trajectory_id


def _trajectory(app, trajectory_id: int):
    with app.app_context():
        row = db.session.get(Trajectory, trajectory_id)
        return row.outcome, row.destination, row.closed_on, row.closing_note


def test_the_coach_sees_the_phase_and_closes_the_trajectory_on_the_dossier(app, client, coach, accepted):
    client_id, trajectory_id = accepted
    sign_in(client, coach)
    dossier = f"/clients/{client_id}"
    page = client.get(dossier).get_data(as_text=True)
    card = page.split('id="trajectory-h"', 1)[1].split("</section>", 1)[0]
    assert "contactfase" in card and "Traject afsluiten" in card
    close = f"/trajectories/{trajectory_id}/close"
    today = NOW.date().isoformat()
    done = post(client, close, {"outcome": "exited", "destination": "paid_work", "closed_on": today,
                                "note": "Werkt sinds maandag in de zorg."}, page=dossier)
    assert done.status_code == 302 and done.location.endswith(f"{dossier}#trajectory")
    assert _trajectory(app, trajectory_id) == ("exited", "paid_work", NOW.date(), "Werkt sinds maandag in de zorg.")
    card = client.get(dossier).get_data(as_text=True).split('id="trajectory-h"', 1)[1].split("</section>", 1)[0]
    assert "uitgestapt" in card and "betaald werk" in card and "Traject afsluiten" not in card
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.tag == "referrals:trajectory:closed"))
        assert event.user_id == coach.id and event.ground.startswith("consent:")


@pytest.mark.parametrize(("form", "field"), [
    ({"closed_on": "2026-11-23"}, "outcome"),
    ({"outcome": "exited", "closed_on": "2026-11-23"}, "destination"),
    ({"outcome": "moved", "destination": "education", "closed_on": "2026-11-23"}, "destination"),
    ({"outcome": "moved", "closed_on": "2099-01-01"}, "closed_on"),
    ({"outcome": "moved", "closed_on": "gisteren"}, "closed_on"),
])
def test_a_closing_that_does_not_fit_comes_back_with_its_mistake_and_changes_nothing(app, client, coach, accepted,
                                                                                      form, field):
    client_id, trajectory_id = accepted
    sign_in(client, coach)
    response = post(client, f"/trajectories/{trajectory_id}/close", form, page=f"/clients/{client_id}")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="e-{field}"' in page and "<details open" in page
    assert _trajectory(app, trajectory_id) == (None, None, None, None)


def test_a_closed_trajectory_is_not_closed_twice_and_the_page_says_why(app, client, coach, accepted):
    _client_id, trajectory_id = accepted
    sign_in(client, coach)
    assert _close(client, trajectory_id, "moved").status_code == 302
    again = _close(client, trajectory_id, "other")  # a second click, or a second tab
    assert again.status_code == 409
    card = again.get_data(as_text=True).split('id="trajectory-h"', 1)[1].split("</section>", 1)[0]
    assert 'role="alert"' in card and "Dit traject is al afgesloten op" in card  # though its form is gone
    assert _trajectory(app, trajectory_id)[0] == "moved"


def _close(client, trajectory_id: int, outcome: str):
    """Post the close form as whoever is signed in (with a CSRF token of a page anyone may open)."""
    return client.post(f"/trajectories/{trajectory_id}/close", data={
        "outcome": outcome, "closed_on": NOW.date().isoformat(), "csrf_token": csrf(client, "/")})


def _start(client, trajectory_id: int, phase: str, **form):
    """Post the new-phase form as whoever is signed in."""
    return client.post(f"/trajectories/{trajectory_id}/phases",
                       data={"phase": phase, "csrf_token": csrf(client, "/"), **form})


def _phases(app, trajectory_id: int) -> list[tuple[str, str, str | None]]:
    with app.app_context():
        return [(p.phase.value, p.started_on.isoformat(), p.ended_on and p.ended_on.isoformat())
                for p in db.session.get(Trajectory, trajectory_id).phases]


def test_the_coach_starts_the_next_phase_and_one_next_to_it_on_the_dossier(app, client, coach, accepted):
    client_id, trajectory_id = accepted
    sign_in(client, coach)
    today = NOW.date().isoformat()
    moved_on = _start(client, trajectory_id, "orientation", started_on=today)
    assert moved_on.status_code == 302 and moved_on.location.endswith(f"/clients/{client_id}#trajectory")
    assert _phases(app, trajectory_id) == [("contact", today, today), ("orientation", today, None)]
    assert _start(client, trajectory_id, "execution", parallel="1").status_code == 302
    assert _phases(app, trajectory_id)[1:] == [("orientation", today, None), ("execution", today, None)]
    page = client.get(f"/clients/{client_id}")
    card = page.get_data(as_text=True).split('id="trajectory-h"', 1)[1].split("</section>", 1)[0]
    assert "oriëntatiefase" in card and "uitvoeringsfase" in card
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.tag == "referrals:trajectory:phase_started").order_by(AuditEvent.id)).first()
        assert event.user_id == coach.id and event.ground.startswith("consent:")


@pytest.mark.parametrize(("form", "field"), [
    ({"phase": ""}, "phase"),
    ({"phase": "afterwards"}, "phase"),
    ({"phase": "orientation", "started_on": "2099-01-01"}, "started_on"),
    ({"phase": "orientation", "started_on": "2026-01-01"}, "started_on"),  # before the trajectory began
])
def test_a_phase_that_does_not_fit_comes_back_with_its_mistake_and_changes_nothing(app, client, coach, accepted,
                                                                                    form, field):
    _client_id, trajectory_id = accepted
    sign_in(client, coach)
    before = _phases(app, trajectory_id)
    response = _start(client, trajectory_id, **form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="e-{field}"' in page and page.count("<details open") == 1
    assert _phases(app, trajectory_id) == before


def test_the_phase_the_client_is_in_is_not_started_again(app, client, coach, accepted):
    _client_id, trajectory_id = accepted
    sign_in(client, coach)
    again = _start(client, trajectory_id, "contact")
    assert again.status_code == 409 and "De cliënt zit al in deze fase." in again.get_data(as_text=True)
    assert _phases(app, trajectory_id) == [("contact", NOW.date().isoformat(), None)]


def test_a_closed_trajectory_takes_no_new_phase(app, client, coach, accepted):
    _client_id, trajectory_id = accepted
    sign_in(client, coach)
    assert _close(client, trajectory_id, "moved").status_code == 302
    assert _start(client, trajectory_id, "orientation").status_code == 409


GOAL = {"domain": "finances", "description": "Schulden in kaart en een budgetplan", "score": "3", "target": "7",
        "deadline": "2027-03-01", "subgoals": "Alle brieven verzamelen\r\n\r\nBudgetplan maken met de schuldhulp\r\n"}


def _add_goal(client, trajectory_id: int, **changes):
    return client.post(f"/trajectories/{trajectory_id}/goals",
                       data={**GOAL, **changes, "csrf_token": csrf(client, "/")})


def _progress(client, goal_id: int, **form):
    return client.post(f"/goals/{goal_id}/progress", data={**form, "csrf_token": csrf(client, "/")})


def _revise(client, goal_id: int, **form):
    return client.post(f"/goals/{goal_id}/revise", data={**form, "csrf_token": csrf(client, "/")})


def _plan(app, goal_id: int) -> tuple:
    """The goal's target, deadline, description and sub-goals (text, deadline)."""
    with app.app_context():
        goal = db.session.get(Goal, goal_id)
        return goal.target, goal.deadline, goal.description, [(step.text, step.deadline) for step in goal.subgoals]


def _goals(app, trajectory_id: int) -> list[tuple]:
    """Per goal: domain, scores in order, achieved on, and per sub-goal its text and the day it was done."""
    with app.app_context():
        return [(goal.domain.value, [entry.score for entry in goal.progress], goal.achieved_on,
                 [(step.text, step.done_on) for step in goal.subgoals])
                for goal in db.session.get(Trajectory, trajectory_id).goals]


def _goal_id(app, trajectory_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(Goal.id).where(Goal.trajectory_id == trajectory_id))


def test_the_coach_adds_a_goal_and_records_its_progress_on_the_dossier(app, client, coach, accepted):
    client_id, trajectory_id = accepted
    sign_in(client, coach)
    assert "Nog geen doelen." in client.get(f"/clients/{client_id}").get_data(as_text=True)
    added = _add_goal(client, trajectory_id)
    assert added.status_code == 302 and added.location.endswith(f"/clients/{client_id}#trajectory")
    steps = [("Alle brieven verzamelen", None), ("Budgetplan maken met de schuldhulp", None)]
    assert _goals(app, trajectory_id) == [("finances", [3], None, steps)]
    goal_id = _goal_id(app, trajectory_id)
    with app.app_context():
        first_step = db.session.get(Goal, goal_id).subgoals[0].id
    assert _progress(client, goal_id, score="5", note="Brieven zijn binnen.",
                     subgoals_done=str(first_step)).status_code == 302
    today = NOW.date()
    assert _goals(app, trajectory_id) == [("finances", [3, 5], None, [(steps[0][0], today), steps[1]])]
    assert _progress(client, goal_id, score="7").status_code == 302  # the target: achieved
    assert _goals(app, trajectory_id)[0][1:3] == ([3, 5, 7], today)
    card = client.get(f"/clients/{client_id}").get_data(as_text=True).split('id="plan-h"', 1)[1]
    card = card.split("</section>", 1)[0]
    assert "Financiën en schulden" in card and "Schulden in kaart en een budgetplan" in card
    assert "7 van 10: begonnen bij 3, doel 7" in card and f"bereikt op {today.isoformat()}" in card
    assert f"gedaan op {today.isoformat()}" in card
    with app.app_context():
        tags = db.session.scalars(select(AuditEvent.tag).where(AuditEvent.tag.in_(
            ["referrals:trajectory:goal_added", "referrals:trajectory:progress_recorded"])).order_by(AuditEvent.id))
        assert list(tags) == ["referrals:trajectory:goal_added"] + ["referrals:trajectory:progress_recorded"] * 2


@pytest.mark.parametrize(("changes", "field"), [
    ({"domain": ""}, "domain"),
    ({"domain": "luck"}, "domain"),
    ({"score": "0"}, "score"),
    ({"score": "zeven"}, "score"),
    ({"target": "3"}, "target"),  # not above the score now
    ({"deadline": "2026-01-01"}, "deadline"),  # passed
    ({"subgoals": "\n".join(f"Stap {n}" for n in range(21))}, "subgoals"),
    ({"subgoals": "x" * 501}, "subgoals"),
])
def test_a_goal_that_does_not_fit_comes_back_with_its_mistake_and_adds_nothing(app, client, coach, accepted,
                                                                                changes, field):
    _client_id, trajectory_id = accepted
    sign_in(client, coach)
    response = _add_goal(client, trajectory_id, **changes)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="e-{field}"' in page and page.count("<details open") == 1
    assert _goals(app, trajectory_id) == []


@pytest.mark.parametrize(("form", "problem"), [
    ({"score": "11"}, 'id="e-g{goal}-score"'),
    ({}, 'id="e-g{goal}-score"'),
    ({"score": "5", "subgoals_done": "999999"}, "Onbekend subdoel."),
    ({"score": "5", "subgoals_done": "de eerste"}, '<p class="error">Vul een heel getal in.</p>'),  # by hand
])
def test_progress_that_does_not_fit_comes_back_with_its_mistake_and_records_nothing(app, client, coach, accepted,
                                                                                     form, problem):
    _client_id, trajectory_id = accepted
    sign_in(client, coach)
    assert _add_goal(client, trajectory_id).status_code == 302
    goal_id = _goal_id(app, trajectory_id)
    response = _progress(client, goal_id, **form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert problem.format(goal=goal_id) in page and page.count("<details open") == 1
    assert _goals(app, trajectory_id)[0][1] == [3]


def test_the_coach_changes_a_goal_on_the_dossier_when_the_plan_changes(app, client, coach, accepted):
    client_id, trajectory_id = accepted
    sign_in(client, coach)
    assert _add_goal(client, trajectory_id).status_code == 302
    goal_id = _goal_id(app, trajectory_id)
    page = client.get(f"/clients/{client_id}").get_data(as_text=True)
    form = page.split(f'action="/goals/{goal_id}/revise"', 1)[1].split("</form>", 1)[0]
    assert 'value="7"' in form and 'value="2027-03-01"' in form and "Schulden in kaart en een budgetplan" in form

    changed = _revise(client, goal_id, target="8", deadline="2027-06-01", description="Een budgetplan",
                      add_subgoals="Budgetcursus volgen\r\n")
    assert changed.status_code == 302 and changed.location.endswith(f"/clients/{client_id}#trajectory")
    steps = [("Alle brieven verzamelen", None), ("Budgetplan maken met de schuldhulp", None),
             ("Budgetcursus volgen", None)]
    assert _plan(app, goal_id) == (8, date(2027, 6, 1), "Een budgetplan", steps)
    page = client.get(f"/clients/{client_id}").get_data(as_text=True)
    assert "Het doel voor financiën en schulden is gewijzigd." in page and "3 van 10: begonnen bij 3, doel 8" in page

    same = _revise(client, goal_id, target="8", deadline="2027-06-01", description="Een budgetplan")
    assert same.status_code == 302
    assert "Er is niets gewijzigd." in client.get(f"/clients/{client_id}").get_data(as_text=True)
    with app.app_context():
        revisions = db.session.scalars(select(AuditEvent.detail).where(
            AuditEvent.tag == "referrals:trajectory:goal_revised")).all()
        assert revisions == ["changed=add_subgoals,deadline,description,target"]  # the second changed nothing


@pytest.mark.parametrize(("form", "field"), [
    ({"target": "3"}, "target"),  # not above the score when the goal was set
    ({"target": "veel"}, "target"),
    ({"deadline": "2026-01-01"}, "deadline"),
    ({"add_subgoals": "\n".join(f"Stap {n}" for n in range(19))}, "add_subgoals"),  # 2 + 19 > 20
])
def test_a_goal_change_that_does_not_fit_comes_back_with_its_mistake_and_changes_nothing(app, client, coach,
                                                                                         accepted, form, field):
    _client_id, trajectory_id = accepted
    sign_in(client, coach)
    assert _add_goal(client, trajectory_id).status_code == 302
    goal_id = _goal_id(app, trajectory_id)
    before = _plan(app, goal_id)
    response = _revise(client, goal_id, **{"target": "7", "deadline": "2027-03-01", **form})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and f'id="e-g{goal_id}-{field}"' in page and page.count("<details open") == 1
    assert _plan(app, goal_id) == before


def _goal_of(app, coach, trajectory_id: int) -> int:
    """A goal added by the coach through the service (for the refusal tests)."""
    from hub.consent.service import decide
    from hub.referrals.trajectory import add_goal

    with app.test_request_context():
        row = db.session.get(Trajectory, trajectory_id)
        decision = decide(row.programme_id, row.client_id, "handoff", None, NOW)
        goal = add_goal(db.session.get(User, coach.id), row, decision, {
            "domain": "housing", "score": 2, "target": 6, "deadline": NOW.date().replace(year=2027)}, NOW)
        db.session.commit()
        return goal.id


WRITES = [("close", lambda client, trajectory_id, _goal: _close(client, trajectory_id, "moved")),
          ("phase", lambda client, trajectory_id, _goal: _start(client, trajectory_id, "orientation")),
          ("goal", lambda client, trajectory_id, _goal: _add_goal(client, trajectory_id)),
          ("progress", lambda client, _trajectory_id, goal: _progress(client, goal, score="9")),
          ("revise", lambda client, _trajectory_id, goal: _revise(client, goal, target="9", deadline="2027-06-01"))]


@pytest.mark.parametrize("role", ["referrer", "partner", "director", "admin"])
@pytest.mark.parametrize(("_name", "write"), WRITES)
def test_no_other_role_may_change_a_trajectory(app, client, make, coach, accepted, role, _name, write):
    _client_id, trajectory_id = accepted
    goal_id = _goal_of(app, coach, trajectory_id)
    before = (_trajectory(app, trajectory_id), _phases(app, trajectory_id), _goals(app, trajectory_id))
    sign_in(client, make.user(role))
    assert write(client, trajectory_id, goal_id).status_code == 403
    assert (_trajectory(app, trajectory_id), _phases(app, trajectory_id), _goals(app, trajectory_id)) == before


@pytest.mark.parametrize(("_name", "write"), WRITES)
def test_a_coach_of_another_programme_finds_no_trajectory_to_change(app, client, make, coach, accepted, _name,
                                                                     write):
    _client_id, trajectory_id = accepted
    goal_id = _goal_of(app, coach, trajectory_id)
    before = (_trajectory(app, trajectory_id), _phases(app, trajectory_id), _goals(app, trajectory_id))
    sign_in(client, make.user("coach", organisation_id=make.organisation("exit_programme", name="Elders")))
    assert write(client, trajectory_id, goal_id).status_code == 404
    assert (_trajectory(app, trajectory_id), _phases(app, trajectory_id), _goals(app, trajectory_id)) == before


def test_a_closed_trajectory_takes_no_goal_and_no_progress(app, client, coach, accepted):
    _client_id, trajectory_id = accepted
    goal_id = _goal_of(app, coach, trajectory_id)
    sign_in(client, coach)
    assert _close(client, trajectory_id, "moved").status_code == 302
    assert _add_goal(client, trajectory_id).status_code == 409
    assert _progress(client, goal_id, score="9").status_code == 409
    assert _revise(client, goal_id, target="9").status_code == 409
    assert [goal[1] for goal in _goals(app, trajectory_id)] == [[2]] and _plan(app, goal_id)[0] == 6


def _reenter(client, client_id: int, **form):
    return client.post(f"/clients/{client_id}/trajectories", data={**form, "csrf_token": csrf(client, "/")})


def _numbers(app, client_id: int) -> list[tuple[int, bool]]:
    with app.app_context():
        return [(row.number, row.is_open) for row in db.session.scalars(
            select(Trajectory).where(Trajectory.client_id == client_id).order_by(Trajectory.number))]


def test_a_client_who_comes_back_gets_a_new_trajectory_from_the_dossier(app, client, coach, accepted):
    client_id, trajectory_id = accepted
    sign_in(client, coach)
    today = NOW.date().isoformat()
    assert "een nieuw traject openen" not in client.get(f"/clients/{client_id}").get_data(as_text=True)
    assert _reenter(client, client_id, opened_on=today).status_code == 409  # the first one is still open
    assert _close(client, trajectory_id, "dropped_out").status_code == 302
    assert "De cliënt komt terug: een nieuw traject openen" in client.get(f"/clients/{client_id}").get_data(
        as_text=True)
    again = _reenter(client, client_id, opened_on=today, phase="orientation")
    assert again.status_code == 302 and again.location.endswith(f"/clients/{client_id}#trajectory")
    assert _numbers(app, client_id) == [(1, False), (2, True)]
    card = client.get(f"/clients/{client_id}").get_data(as_text=True).split('id="trajectory-h"', 1)[1]
    assert "oriëntatiefase" in card.split("</dl>", 1)[0] and "Nog geen doelen." in card


@pytest.mark.parametrize(("opened_on", "phase"), [("2099-01-01", "contact"), ("2026-01-01", "contact"),
                                                   ("gisteren", "contact"), ("2026-11-23", "later")])
def test_a_re_entry_that_does_not_fit_comes_back_with_its_mistake_and_opens_nothing(app, client, coach, accepted,
                                                                                     opened_on, phase):
    client_id, trajectory_id = accepted
    sign_in(client, coach)
    assert _close(client, trajectory_id, "moved").status_code == 302
    response = _reenter(client, client_id, opened_on=opened_on, phase=phase)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert ('id="e-phase"' if phase == "later" else 'id="e-opened_on"') in page and "<details open" in page
    assert _numbers(app, client_id) == [(1, False)]


@pytest.mark.parametrize("role", ["referrer", "partner", "director", "admin", "other programme's coach"])
def test_only_the_clients_own_programme_opens_a_new_trajectory(app, client, make, coach, accepted, role):
    client_id, trajectory_id = accepted
    sign_in(client, coach)
    assert _close(client, trajectory_id, "moved").status_code == 302
    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    other = (make.user("coach", organisation_id=make.organisation("exit_programme", name="Elders"))
             if role == "other programme's coach" else make.user(role))
    sign_in(client, other)
    response = _reenter(client, client_id, opened_on=NOW.date().isoformat())
    assert response.status_code == (404 if role == "other programme's coach" else 403)
    assert _numbers(app, client_id) == [(1, False)]


@pytest.mark.parametrize(("_name", "write"), WRITES)
def test_after_the_handoff_consent_is_withdrawn_the_programme_changes_nothing_and_the_refusal_is_logged(
        app, client, make, api_login, coach, accepted, _name, write):
    client_id, trajectory_id = accepted
    goal_id = _goal_of(app, coach, trajectory_id)
    headers = api_login(coach)
    consents = client.get(f"/api/v1/clients/{client_id}/consents", headers=headers).get_json()["items"]
    handoff_consent = next(c["id"] for c in consents if c["purpose"] == "handoff")
    assert client.post(f"/api/v1/consents/{handoff_consent}/withdraw", headers=headers,
                       json={"reason": "Wil even niets"}).status_code == 200
    before = (_trajectory(app, trajectory_id), _phases(app, trajectory_id), _goals(app, trajectory_id))
    next_step()  # a new code from the app: the API sign-in used this one
    sign_in(client, coach)
    assert write(client, trajectory_id, goal_id).status_code == 404
    assert (_trajectory(app, trajectory_id), _phases(app, trajectory_id), _goals(app, trajectory_id)) == before
    with app.app_context():
        refused = db.session.scalars(select(AuditEvent).where(AuditEvent.tag == "referrals:client:refused",
                                                              AuditEvent.client_id == client_id)).all()
        assert [(event.user_id, event.detail) for event in refused] == [(coach.id, "withdrawn")]
