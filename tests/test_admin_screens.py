"""Admins register organisations and accounts on the web, with the same refusals as the commands."""
from sqlalchemy import select

from hub.auth.models import User
from hub.extensions import db
from hub.notifications.models import Notification
from hub.partners.models import Organisation
from tests.web import post_form, signed_in


def test_an_admin_registers_an_organisation(app, make, client):
    signed_in(client, make.user("admin"))
    response = post_form(client, "/organisations/new", {"name": "Woonstichting Ede", "kind": "housing",
                                                        "municipality": "Ede"})
    assert response.status_code == 302
    with app.app_context():
        organisation = db.session.scalar(select(Organisation).where(Organisation.name == "Woonstichting Ede"))
        assert organisation.kind.value == "housing"
    again = post_form(client, "/organisations/new", {"name": "Woonstichting Ede", "kind": "housing",
                                                     "municipality": "Ede"})
    assert again.status_code == 422
    assert 'id="e-name"' in again.get_data(as_text=True), "the name field says why"
    unknown_kind = post_form(client, "/organisations/new", {"name": "Iets", "kind": "castle", "municipality": "Ede"})
    assert unknown_kind.status_code == 422
    assert "Kies een van de mogelijkheden." in unknown_kind.get_data(as_text=True), "in the reader's language"


def test_an_admin_cannot_give_a_role_that_does_not_fit_the_organisation(app, make, client):
    signed_in(client, make.user("admin"))
    police = make.organisation("police")
    response = post_form(client, "/admin/users", {"name": "Verkeerd", "email": "verkeerd@hub.test",
                                                  "organisation_id": str(police), "role": "coach"})
    assert response.status_code == 422
    assert 'id="e-role"' in response.get_data(as_text=True), "the role field says why"
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "verkeerd@hub.test")) is None


def test_the_new_user_form_chooses_no_organisation_or_role_for_the_admin(app, make, client):
    """Both lists start at "choose…": an account is never made for the first organisation or role of
    the list because the admin overlooked it."""
    signed_in(client, make.user("admin"))
    make.organisation("exit_programme")
    page = client.get("/admin/users").get_data(as_text=True)
    for name in ("organisation_id", "role"):
        options = page.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
        assert '<option value="">' in options and " selected" not in options, options
    response = post_form(client, "/admin/users", {"name": "Vergeten", "email": "vergeten@hub.test",
                                                  "organisation_id": "", "role": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="e-organisation_id"' in html and 'id="e-role"' in html, "both fields say what is missing"
    assert html.count('">Vul dit in.</p>') == 2 and "Missing data" not in html, "in the reader's language"
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "vergeten@hub.test")) is None


def test_an_admin_invites_and_never_knows_a_way_into_the_account(app, make, client):
    """No break-glass: the admin chooses no password; the invitation link goes to the person, and
    the organisation's staff hear of the new account."""
    signed_in(client, make.user("admin"))
    programme = make.organisation("exit_programme")
    colleague = make.user("coach", organisation_id=programme)
    response = post_form(client, "/admin/users", {"name": "Nieuw", "email": "nieuw@hub.test",
                                                  "organisation_id": str(programme), "role": "coach"})
    assert response.status_code == 302
    with app.app_context():
        invited = db.session.scalar(select(User).where(User.email == "nieuw@hub.test"))
        assert invited.activation_hash and not invited.totp_enrolled
        told = db.session.scalars(select(Notification.user_id)).all()
    assert invited.id in told and colleague.id in told
    api = app.test_client().post("/api/v1/auth/login", json={"email": "nieuw@hub.test", "password": "x" * 12,
                                                             "otp": "123456"})
    assert api.status_code == 401


def test_an_admin_cannot_disable_their_own_account(app, make, client):
    admin = make.user("admin")
    signed_in(client, admin)
    post_form(client, f"/admin/users/{admin.id}/active", {"active": "0"}, form_page="/admin/users")
    assert client.get("/admin/users").status_code == 200
    with app.app_context():
        assert db.session.get(User, admin.id).active
