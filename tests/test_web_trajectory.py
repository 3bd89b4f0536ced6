"""The trajectory on the dossier: the coach sees its phase, starts the next one and closes it with its
outcome; a phase or a closing that does not fit comes back with its mistakes and changes nothing;
nobody else may do either."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from hub.audit.models import AuditEvent
from hub.auth.models import User
from hub.extensions import db
from hub.referrals.models import Handoff, Trajectory
from tests.conftest import NOW
from tests.test_web_handoff import csrf, post, sign_in


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


def test_a_closed_trajectory_is_not_closed_twice(app, client, coach, accepted):
    _client_id, trajectory_id = accepted
    sign_in(client, coach)
    assert _close(client, trajectory_id, "moved").status_code == 302
    assert _close(client, trajectory_id, "other").status_code == 409
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


WRITES = [("close", lambda client, trajectory_id: _close(client, trajectory_id, "moved")),
          ("phase", lambda client, trajectory_id: _start(client, trajectory_id, "orientation"))]


@pytest.mark.parametrize("role", ["referrer", "partner", "director", "admin"])
@pytest.mark.parametrize(("_name", "write"), WRITES)
def test_no_other_role_may_close_a_trajectory_or_start_a_phase(app, client, make, accepted, role, _name, write):
    _client_id, trajectory_id = accepted
    before = _phases(app, trajectory_id)
    sign_in(client, make.user(role))
    assert write(client, trajectory_id).status_code == 403
    assert _trajectory(app, trajectory_id) == (None, None, None, None) and _phases(app, trajectory_id) == before


@pytest.mark.parametrize(("_name", "write"), WRITES)
def test_a_coach_of_another_programme_finds_no_trajectory_to_change(app, client, make, accepted, _name, write):
    _client_id, trajectory_id = accepted
    before = _phases(app, trajectory_id)
    sign_in(client, make.user("coach", organisation_id=make.organisation("exit_programme", name="Elders")))
    assert write(client, trajectory_id).status_code == 404
    assert _trajectory(app, trajectory_id) == (None, None, None, None) and _phases(app, trajectory_id) == before
