"""Erasure on request: recorded by the coach and carried out at once, unless a legal hold applies
(then the request and the hold's reason are recorded and shown, and it is carried out when the hold
is lifted); an open trajectory is closed with it, with the outcome the coach gives, even when the
client withdrew the handoff consent. The legal hold itself: set and lifted by the coach of the
programme, audited."""
from datetime import UTC, datetime

from sqlalchemy import func, select

from hub.audit.models import AuditEvent, AuditResult
from hub.extensions import db
from hub.referrals.models import Client, Trajectory
from hub.rights.models import ErasureRequest, ErasureStatus
from hub.rights.service import ANONYMISED
from tests.conftest import NOW
from tests.rights_support import SECRETS, figures, full_dossier, registration_report
from tests.web import csrf_token, next_step, signed_in

HOLD = "Strafzaak 09/123456-26: het OM vraagt het dossier te bewaren."


def _erase(client, dossier, reason="De cliënt vraagt alles te wissen.", **body):
    return client.post(f"/api/v1/clients/{dossier.client_id}/erasure", json={"reason": reason, **body},
                       headers=dossier.coach_headers)


def _withdraw_handoff_consent(client, dossier) -> None:
    consents = client.get(f"/api/v1/clients/{dossier.client_id}/consents", headers=dossier.coach_headers)
    handoff = next(c for c in consents.get_json()["items"] if c["purpose"] == "handoff")
    withdrawn = client.post(f"/api/v1/consents/{handoff['id']}/withdraw", headers=dossier.coach_headers,
                            json={"reason": "De cliënt wil vergeten worden."})
    assert withdrawn.status_code == 200, withdrawn.get_json()


def _trajectory(app, dossier):
    with app.app_context():
        trajectory = db.session.get(Trajectory, dossier.trajectory_id)
        return trajectory.outcome, trajectory.destination, trajectory.closed_on


def _hold(client, dossier, reason=HOLD):
    return client.post(f"/api/v1/clients/{dossier.client_id}/legal-hold", json={"reason": reason},
                       headers=dossier.coach_headers)


def _requests(app, client_id) -> list[ErasureRequest]:
    with app.app_context():
        rows = db.session.scalars(select(ErasureRequest).where(ErasureRequest.client_id == client_id)
                                  .order_by(ErasureRequest.id)).all()
        return [(row.status, row.reason, row.legal_hold_reason, row.carried_out_at) for row in rows]


def _exported(client, dossier) -> str:
    return client.get(f"/api/v1/clients/{dossier.client_id}/export", headers=dossier.coach_headers).get_data(
        as_text=True)


def test_an_erasure_request_is_carried_out_at_once(app, client, make, api_login):
    dossier = full_dossier(client, make, api_login)
    with app.app_context():
        before, report = figures(), registration_report(dossier.programme)
    response = _erase(client, dossier)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["status"], body["client_id"]) == ("carried_out", dossier.client_id)
    exported = _exported(client, dossier)
    assert [name for name, secret in SECRETS.items() if secret in exported] == []
    data = client.get(f"/api/v1/clients/{dossier.client_id}/export", headers=dossier.coach_headers).get_json()
    assert data["client"]["alias"] == ANONYMISED
    [request] = data["erasure_requests"]  # the request itself is part of the record
    assert (request["reason"], request["status"]) == ("De cliënt vraagt alles te wissen.", "carried_out")
    with app.app_context():
        assert figures() == before and registration_report(dossier.programme) == report
        assert db.session.get(Client, dossier.client_id).anonymised_at == NOW
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.tag == "rights:erasure:carried_out"))
        assert (event.user_id, event.client_id, event.ground) == (dossier.coach.id, dossier.client_id,
                                                                  "request:erasure")
    again = _erase(client, dossier)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_anonymised"


def test_an_open_trajectory_must_be_given_its_outcome_and_nothing_is_erased_without_it(app, client, make,
                                                                                       api_login):
    dossier = full_dossier(client, make, api_login, close=False)
    status = client.get(f"/api/v1/clients/{dossier.client_id}/rights", headers=dossier.coach_headers).get_json()
    assert status["open_trajectory_since"] == NOW.date().isoformat()
    response = _erase(client, dossier)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "trajectory_open" and "hoe het is afgelopen" in error["message"]
    assert _requests(app, dossier.client_id) == []
    assert "raamprostitutie" in _exported(client, dossier)
    assert _trajectory(app, dossier) == (None, None, None)


def test_a_client_who_withdrew_the_handoff_consent_is_erased_with_the_trajectory_closed(app, client, make,
                                                                                        api_login):
    dossier = full_dossier(client, make, api_login, close=False)
    _withdraw_handoff_consent(client, dossier)
    today = NOW.date().isoformat()
    closed_alone = client.post(f"/api/v1/trajectories/{dossier.trajectory_id}/close", headers=dossier.coach_headers,
                               json={"outcome": "dropped_out", "closed_on": today})
    assert closed_alone.status_code == 404  # without the consent, the trajectory's own route is closed
    response = _erase(client, dossier, close_trajectory={"outcome": "dropped_out", "closed_on": today})
    assert response.status_code == 201, response.get_json()
    assert _trajectory(app, dossier) == ("dropped_out", None, NOW.date())
    assert "raamprostitutie" not in _exported(client, dossier)
    with app.app_context():
        assert registration_report(dossier.programme)["dropped_out"] == 1
        closed = db.session.scalar(select(AuditEvent).where(AuditEvent.tag == "referrals:trajectory:closed"))
        assert (closed.user_id, closed.client_id, closed.ground) == (dossier.coach.id, dossier.client_id,
                                                                    "request:erasure")


def test_a_closing_that_does_not_fit_erases_nothing(app, client, make, api_login):
    dossier = full_dossier(client, make, api_login, close=False)
    no_destination = _erase(client, dossier, close_trajectory={"outcome": "exited",
                                                               "closed_on": NOW.date().isoformat()})
    assert no_destination.status_code == 422
    assert list(no_destination.get_json()["error"]["fields"]["close_trajectory"]) == ["destination"]
    in_the_future = _erase(client, dossier, close_trajectory={"outcome": "moved", "closed_on": "2027-01-01"})
    assert in_the_future.get_json()["error"]["fields"] == {"close_trajectory": {"closed_on": ["In de toekomst."]}}
    unknown = _erase(client, dossier, close_trajectory={"outcome": "vanished", "closed_on": "2026-11-23"})
    assert unknown.status_code == 422 and "outcome" in unknown.get_json()["error"]["fields"]["close_trajectory"]
    assert _requests(app, dossier.client_id) == [] and _trajectory(app, dossier) == (None, None, None)
    assert "raamprostitutie" in _exported(client, dossier)


def test_a_closing_given_for_a_closed_trajectory_changes_nothing_of_it(app, client, make, api_login):
    dossier = full_dossier(client, make, api_login)  # closed as an exit to paid work
    response = _erase(client, dossier, close_trajectory={"outcome": "moved", "closed_on": NOW.date().isoformat()})
    assert response.status_code == 201
    assert _trajectory(app, dossier) == ("exited", "paid_work", NOW.date())


def test_under_a_legal_hold_the_request_is_recorded_and_the_reason_shown(app, client, make, api_login):
    dossier = full_dossier(client, make, api_login)
    assert _hold(client, dossier).status_code == 200
    response = _erase(client, dossier)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "legal_hold"
    assert HOLD in error["message"] and error["fields"]["legal_hold_reason"] == [HOLD]
    assert _requests(app, dossier.client_id) == [
        (ErasureStatus.HELD, "De cliënt vraagt alles te wissen.", HOLD, None)]
    assert "raamprostitutie" in _exported(client, dossier)
    rights = client.get(f"/api/v1/clients/{dossier.client_id}/rights", headers=dossier.coach_headers).get_json()
    assert rights["legal_hold"] is True and rights["legal_hold_reason"] == HOLD
    assert [r["status"] for r in rights["erasure_requests"]] == ["held"]
    with app.app_context():
        refused = db.session.scalar(select(AuditEvent).where(AuditEvent.tag == "rights:erasure:held"))
        assert refused.result is AuditResult.REFUSED and refused.client_id == dossier.client_id

    lifted = client.delete(f"/api/v1/clients/{dossier.client_id}/legal-hold", headers=dossier.coach_headers)
    assert lifted.status_code == 200, lifted.get_json()
    assert lifted.get_json()["legal_hold"] is False and lifted.get_json()["anonymised_at"] is not None
    assert [row[0] for row in _requests(app, dossier.client_id)] == [ErasureStatus.CARRIED_OUT]
    assert "raamprostitutie" not in _exported(client, dossier)


def test_a_held_request_waits_for_an_open_trajectory_to_close_then_the_job_carries_it_out(app, client, make,
                                                                                          api_login):
    from hub.rights.jobs import apply_retention

    dossier = full_dossier(client, make, api_login, close=False)
    assert _hold(client, dossier).status_code == 200
    assert _erase(client, dossier).get_json()["error"]["code"] == "legal_hold"
    assert client.delete(f"/api/v1/clients/{dossier.client_id}/legal-hold",
                         headers=dossier.coach_headers).get_json()["anonymised_at"] is None
    with app.app_context():
        assert apply_retention(NOW)["erasures_carried_out"] == 0  # the trajectory is still open
    client.post(f"/api/v1/trajectories/{dossier.trajectory_id}/close", headers=dossier.coach_headers,
                json={"outcome": "moved", "closed_on": NOW.date().isoformat()})
    with app.app_context():
        assert apply_retention(datetime(2026, 11, 24, 2, tzinfo=UTC))["erasures_carried_out"] == 1
        assert db.session.get(Client, dossier.client_id).alias == ANONYMISED


def test_a_held_request_keeps_how_the_trajectory_ended_and_lifting_the_hold_closes_and_erases(app, client, make,
                                                                                             api_login):
    """The client withdrew the handoff consent, so the coach can no longer close the trajectory on its
    own route: the closing given with the held request is what lets the erasure happen once the hold is
    lifted."""
    dossier = full_dossier(client, make, api_login, close=False)
    assert _hold(client, dossier).status_code == 200
    _withdraw_handoff_consent(client, dossier)
    today = NOW.date().isoformat()
    held = _erase(client, dossier, close_trajectory={"outcome": "dropped_out", "closed_on": today})
    assert held.status_code == 409 and held.get_json()["error"]["code"] == "legal_hold"
    assert _trajectory(app, dossier) == (None, None, None)  # nothing closes while the hold lasts
    with app.app_context():
        [request] = db.session.scalars(select(ErasureRequest)).all()
        assert (request.status, request.close_outcome, request.close_on) == (ErasureStatus.HELD, "dropped_out",
                                                                              NOW.date())
    lifted = client.delete(f"/api/v1/clients/{dossier.client_id}/legal-hold", headers=dossier.coach_headers)
    assert lifted.status_code == 200 and lifted.get_json()["anonymised_at"] is not None
    assert _trajectory(app, dossier) == ("dropped_out", None, NOW.date())
    assert [row[0] for row in _requests(app, dossier.client_id)] == [ErasureStatus.CARRIED_OUT]
    with app.app_context():
        closed = db.session.scalar(select(AuditEvent).where(AuditEvent.tag == "referrals:trajectory:closed"))
        assert (closed.user_id, closed.ground) == (dossier.coach.id, "request:erasure")


def test_a_held_closing_that_no_longer_fits_when_the_hold_is_lifted_leaves_the_request_held(app, client, make,
                                                                                            api_login):
    """The trajectory moved on while the hold lasted (a phase begun after the day the coach gave): the
    hub does not close it on a stale day. The request waits until the coach closes it; then the nightly
    job carries it out."""
    from datetime import timedelta

    from hub import clock
    from hub.rights.jobs import apply_retention

    dossier = full_dossier(client, make, api_login, close=False)
    assert _hold(client, dossier).status_code == 200
    today = NOW.date()
    held = _erase(client, dossier, close_trajectory={"outcome": "moved", "closed_on": today.isoformat()})
    assert held.get_json()["error"]["code"] == "legal_hold"
    clock.freeze(NOW + timedelta(days=2))
    headers = api_login(dossier.coach)
    later = (today + timedelta(days=1)).isoformat()
    assert client.post(f"/api/v1/trajectories/{dossier.trajectory_id}/phases", headers=headers,
                       json={"phase": "execution", "started_on": later}).status_code == 201
    lifted = client.delete(f"/api/v1/clients/{dossier.client_id}/legal-hold", headers=headers)
    assert lifted.status_code == 200 and lifted.get_json()["anonymised_at"] is None
    assert _trajectory(app, dossier) == (None, None, None)
    assert [row[0] for row in _requests(app, dossier.client_id)] == [ErasureStatus.HELD]
    assert client.post(f"/api/v1/trajectories/{dossier.trajectory_id}/close", headers=headers,
                       json={"outcome": "moved", "closed_on": later}).status_code == 200
    with app.app_context():
        assert apply_retention(NOW + timedelta(days=2, hours=1))["erasures_carried_out"] == 1
    assert [row[0] for row in _requests(app, dossier.client_id)] == [ErasureStatus.CARRIED_OUT]


def test_a_closing_that_does_not_fit_is_refused_under_a_legal_hold_too(app, client, make, api_login):
    dossier = full_dossier(client, make, api_login, close=False)
    assert _hold(client, dossier).status_code == 200
    response = _erase(client, dossier, close_trajectory={"outcome": "exited", "closed_on": NOW.date().isoformat()})
    assert response.status_code == 422 and "destination" in response.get_json()["error"]["fields"]["close_trajectory"]
    assert _requests(app, dossier.client_id) == []


def test_the_legal_hold_is_set_restated_and_lifted_with_an_audit_trail(app, client, make, api_login):
    dossier = full_dossier(client, make, api_login)
    first = _hold(client, dossier).get_json()
    assert first["legal_hold"] is True and first["legal_hold_since"].startswith("2026-11-23")
    assert _hold(client, dossier, "Nieuwe zaak 10/1").get_json()["legal_hold_reason"] == "Nieuwe zaak 10/1"
    path = f"/api/v1/clients/{dossier.client_id}/legal-hold"
    assert client.delete(path, headers=dossier.coach_headers).status_code == 200
    nothing = client.delete(path, headers=dossier.coach_headers)
    assert nothing.status_code == 409 and nothing.get_json()["error"]["code"] == "no_legal_hold"
    assert _hold(client, dossier, "   ").status_code == 422
    with app.app_context():
        tags = db.session.scalars(select(AuditEvent.tag).where(AuditEvent.tag.like("rights:legal_hold:%"),
                                                               AuditEvent.result == AuditResult.SUCCESS)
                                  .order_by(AuditEvent.id)).all()
        stored = db.session.execute(select(Client.legal_hold_reason_sealed)).scalars().all()
    assert tags == ["rights:legal_hold:set", "rights:legal_hold:restated", "rights:legal_hold:cleared"]
    assert all(value is None or value.startswith("v1:") for value in stored)


def test_a_request_without_a_reason_is_refused(app, client, make, api_login):
    dossier = full_dossier(client, make, api_login)
    assert _erase(client, dossier, "").status_code == 422
    assert _erase(client, dossier, "   ").status_code == 422
    assert _requests(app, dossier.client_id) == []


def test_the_coach_erases_and_holds_in_the_web_interface(app, client, make, api_login):
    dossier = full_dossier(client, make, api_login)
    next_step()
    signed_in(client, dossier.coach)
    page_path = f"/clients/{dossier.client_id}/rights"
    page = client.get(page_path)
    assert page.status_code == 200 and "Roos" in page.get_data(as_text=True)
    token = csrf_token(client, page_path)
    set_hold = client.post(f"/clients/{dossier.client_id}/legal-hold", data={"csrf_token": token, "hold_reason": HOLD})
    assert set_hold.status_code == 302
    assert HOLD in client.get(page_path).get_data(as_text=True)
    unconfirmed = client.post(f"/clients/{dossier.client_id}/erasure", data={"csrf_token": token, "reason": "Wissen"})
    assert unconfirmed.status_code == 422
    held = client.post(f"/clients/{dossier.client_id}/erasure",
                       data={"csrf_token": token, "reason": "Wissen graag", "confirm": "yes"})
    assert held.status_code == 409 and HOLD in held.get_data(as_text=True)
    assert "Wissen graag" in client.get(page_path).get_data(as_text=True)  # the held request is listed
    lifted = client.post(f"/clients/{dossier.client_id}/legal-hold/lift", data={"csrf_token": token})
    assert lifted.status_code == 302
    shown = client.get(page_path).get_data(as_text=True)
    assert "Roos" not in shown
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(ErasureRequest.client_id == dossier.client_id,
                                                            ErasureRequest.status == ErasureStatus.CARRIED_OUT)) == 1


def test_the_coach_closes_the_trajectory_and_erases_in_one_step_on_the_web(app, client, make, api_login):
    dossier = full_dossier(client, make, api_login, close=False)
    _withdraw_handoff_consent(client, dossier)
    next_step()
    signed_in(client, dossier.coach)
    page_path = f"/clients/{dossier.client_id}/rights"
    page = client.get(page_path).get_data(as_text=True)
    assert "Het traject loopt nog" in page and 'name="outcome"' in page
    token = csrf_token(client, page_path)
    erase = f"/clients/{dossier.client_id}/erasure"
    form = {"csrf_token": token, "reason": "Wissen graag", "confirm": "yes", "closed_on": NOW.date().isoformat()}
    without_outcome = client.post(erase, data=form)
    assert without_outcome.status_code == 422
    shown = without_outcome.get_data(as_text=True)
    assert 'id="e-outcome"' in shown and 'value="yes" class="checkbox" checked' in shown  # the tick is kept
    exit_without_destination = client.post(erase, data={**form, "outcome": "exited"})
    assert exit_without_destination.status_code == 422 and 'id="e-destination"' in exit_without_destination.get_data(
        as_text=True)
    assert _requests(app, dossier.client_id) == [] and _trajectory(app, dossier) == (None, None, None)
    done = client.post(erase, data={**form, "outcome": "exited", "destination": "education"})
    assert done.status_code == 302
    assert _trajectory(app, dossier) == ("exited", "education", NOW.date())
    after = client.get(page_path).get_data(as_text=True)
    assert "Roos" not in after and 'name="outcome"' not in after


def test_a_rights_page_shown_again_with_its_mistakes_still_logs_the_read(app, client, make, api_login):
    """The page answered 422 shows the client's erasure requests and legal hold: its work rolls back,
    yet its read stays in the access log, so the client's read log tells the truth."""
    dossier = full_dossier(client, make, api_login)
    next_step()
    signed_in(client, dossier.coach)
    page_path = f"/clients/{dossier.client_id}/rights"

    def reads() -> int:
        with app.app_context():
            return db.session.scalar(select(func.count()).where(AuditEvent.tag == "rights:rights:read",
                                                                 AuditEvent.client_id == dossier.client_id))

    token = csrf_token(client, page_path)
    before = reads()
    unconfirmed = client.post(f"/clients/{dossier.client_id}/erasure", data={"csrf_token": token, "reason": "Wissen"})
    assert unconfirmed.status_code == 422 and "Roos" in unconfirmed.get_data(as_text=True)
    assert reads() == before + 1
    assert _requests(app, dossier.client_id) == []  # the request's own work is not kept
