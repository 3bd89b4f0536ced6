"""No break-glass: only the coach of the client's own programme reads the read log, exports or erases.
An admin, a director, a referrer and a partner (even the partner the client consented to) are refused
(403), a coach of another programme finds nothing (404), and every refusal is in the audit trail."""
import pytest
from sqlalchemy import func, select

from hub.audit.models import AuditEvent, AuditResult
from hub.extensions import db
from tests.rights_support import full_dossier
from tests.web import csrf_token, next_step, signed_in

API = [("GET", "/api/v1/clients/{id}/read-log"), ("GET", "/api/v1/clients/{id}/export"),
       ("GET", "/api/v1/clients/{id}/rights"), ("POST", "/api/v1/clients/{id}/erasure"),
       ("POST", "/api/v1/clients/{id}/legal-hold"), ("DELETE", "/api/v1/clients/{id}/legal-hold"),
       ("GET", "/api/v1/clients/{id}")]
WEB = [("GET", "/clients/{id}/rights"), ("GET", "/clients/{id}/read-log"), ("GET", "/clients/{id}/export"),
       ("POST", "/clients/{id}/erasure"), ("POST", "/clients/{id}/legal-hold"),
       ("POST", "/clients/{id}/legal-hold/lift")]
BODY = {"reason": "Ik wil alles zien"}


def test_every_rights_route_is_checked_here(app):
    rules = {(method, rule.rule.replace("<int:client_id>", "{id}")) for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith(("rights.", "rights_api.")) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert rules <= set(API) | set(WEB)


def _refusals(app, since: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).where(AuditEvent.id > since,
                                                            AuditEvent.result == AuditResult.REFUSED))


def _last(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.max(AuditEvent.id))) or 0


@pytest.mark.parametrize("role", ["admin", "director", "referrer", "partner"])
def test_no_other_role_reads_exports_or_erases_through_the_api(app, client, make, api_login, role):
    dossier = full_dossier(client, make, api_login)
    if role == "partner":
        headers = dossier.partner_headers  # the partner the client consented to share finances with
    elif role == "referrer":
        headers = api_login(dossier.referrer)  # the referrer who handed this very client over
    else:
        headers = api_login(make.user(role))
    last = _last(app)
    for method, path in API:
        response = client.open(path.format(id=dossier.client_id), method=method, json=BODY, headers=headers)
        assert response.status_code == 403, f"{role} {method} {path}: {response.status_code}"
    assert _refusals(app, last) == len(API)
    assert "raamprostitutie" in client.get(f"/api/v1/clients/{dossier.client_id}/export",
                                           headers=dossier.coach_headers).get_data(as_text=True)


@pytest.mark.parametrize("role", ["admin", "director", "referrer", "partner"])
def test_no_other_role_opens_the_rights_pages(app, client, make, api_login, role):
    dossier = full_dossier(client, make, api_login)
    someone = make.user(role)
    next_step()
    signed_in(client, someone)
    token = csrf_token(client, "/account")
    last = _last(app)
    for method, path in WEB:
        data = {"csrf_token": token, "reason": "x", "hold_reason": "x", "confirm": "yes"} if method == "POST" else None
        response = client.open(path.format(id=dossier.client_id), method=method, data=data)
        assert response.status_code == 403, f"{role} {method} {path}: {response.status_code}"
    assert _refusals(app, last) == len(WEB)


def test_a_coach_of_another_programme_finds_nothing_and_the_refusal_is_audited(app, client, make, api_login):
    dossier = full_dossier(client, make, api_login)
    stranger = make.user("coach", organisation_id=make.organisation("exit_programme"))
    headers = api_login(stranger)
    last = _last(app)
    for method, path in API:
        response = client.open(path.format(id=dossier.client_id), method=method, json=BODY, headers=headers)
        assert response.status_code == 404, f"{method} {path}: {response.status_code}"
        assert response.get_json()["error"]["code"] == "not_found"
    with app.app_context():
        refusals = db.session.scalars(select(AuditEvent).where(AuditEvent.id > last,
                                                               AuditEvent.result == AuditResult.REFUSED)).all()
    assert len(refusals) == len(API)
    assert {(e.user_id, e.client_id) for e in refusals} == {(stranger.id, dossier.client_id)}
    next_step()
    signed_in(client, stranger)
    token = csrf_token(client, "/account")
    for method, path in WEB:
        data = {"csrf_token": token, "reason": "x", "confirm": "yes"} if method == "POST" else None
        response = client.open(path.format(id=dossier.client_id), method=method, data=data)
        assert response.status_code == 404, f"{method} {path}: {response.status_code}"
    assert "raamprostitutie" in client.get(f"/api/v1/clients/{dossier.client_id}/export",
                                           headers=dossier.coach_headers).get_data(as_text=True)


def test_an_unknown_client_is_404(client, make, api_login):
    headers = api_login(make.user("coach"))
    for method, path in API:
        assert client.open(path.format(id=2_000_000), method=method, json=BODY, headers=headers).status_code == 404
