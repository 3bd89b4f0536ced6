"""The directory in the web interface: search with reasons, an organisation's page, and a partner
keeping its own entry current (and only its own)."""
import pytest
from sqlalchemy import select

from hub.extensions import db
from hub.partners.models import Organisation, Service
from tests.directory_support import add_service, name_contacts, service_count
from tests.web import csrf_token, post_form, signed_in


@pytest.fixture
def partner(make):
    return make.user("partner")


@pytest.fixture
def other(app, make):
    organisation = make.organisation("housing", municipality="Arnhem", name="Woonstichting De Rijn")
    add_service(app, organisation, "Urgente woning", ("housing",), legal_positions=["resident"],
                expected_wait_days=120, languages=["nl"])
    name_contacts(app, organisation, {"name": "Petra de Groot", "phone": "026 355 00 00", "how_to_reach": "di en do"},
                  {"name": "Karin Meijer", "email": "karin@derijn.test"})
    return organisation


SERVICE_FORM = {"name": "Schuldhulp voor uitstappers", "description": "Met voorrang.", "status": "active",
                "domains": ["finances", "practical"], "municipalities": "Utrecht, Zeist", "genders": [],
                "age_min": "18", "age_max": "", "legal_positions": ["resident", "self_employed_only"],
                "accepts_active_addiction": "yes", "languages": "nl, EN", "required_documents": "ID\nloonstrook",
                "declared_capacity": "10", "expected_wait_days": "14"}


def test_the_search_page_shows_why_a_partner_does_not_fit(client, make, other):
    signed_in(client, make.user("coach"))
    page = client.get("/directory?domain=housing&municipality=Arnhem&legal_position=no_residence")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Woonstichting De Rijn" in html
    assert "past niet" in html and "neemt geen cliënten zonder verblijfsrecht aan" in html
    assert "nog geen metingen" in html


def test_the_search_page_names_a_bad_field(client, make):
    signed_in(client, make.user("coach"))
    page = client.get("/directory?age=-4")
    assert page.status_code == 422
    assert 'id="e-age"' in page.get_data(as_text=True)


def test_an_organisations_page_shows_contacts_services_and_declared_against_measured_waiting(client, make, other):
    signed_in(client, make.user("director"))
    html = client.get(f"/organisations/{other}").get_data(as_text=True)
    for text in ("Petra de Groot", "di en do", "Karin Meijer", "mailto:karin@derijn.test", "Urgente woning",
                 "120 dagen", "nog geen metingen"):
        assert text in html, text
    assert "Bevestig" not in html, "a director does not confirm entries"
    assert f"/organisations/{other}/contacts" not in html


def test_a_partner_adds_a_service_to_its_own_entry(app, client, partner):
    signed_in(client, partner)
    path = f"/organisations/{partner.organisation_id}/services/new"
    assert client.get(path).status_code == 200
    response = post_form(client, path, SERVICE_FORM)
    assert response.status_code == 302
    assert response.location.endswith(f"/organisations/{partner.organisation_id}")
    with app.app_context():
        service = db.session.scalar(select(Service).where(Service.organisation_id == partner.organisation_id))
        assert (service.domains, service.municipalities, service.languages, service.required_documents,
                service.age_min, service.age_max, service.accepts_active_addiction, service.expected_wait_days) == (
            ["finances", "practical"], ["Utrecht", "Zeist"], ["nl", "en"], ["ID", "loonstrook"], 18, None, True, 14)
    assert "Schuldhulp voor uitstappers" in client.get(f"/organisations/{partner.organisation_id}").get_data(
        as_text=True)


def test_the_service_form_refuses_an_upside_down_age_range_and_saves_nothing(app, client, partner):
    signed_in(client, partner)
    before = service_count(app)
    response = post_form(client, f"/organisations/{partner.organisation_id}/services/new",
                         {**SERVICE_FORM, "age_min": "50", "age_max": "20"})
    assert response.status_code == 422
    assert 'id="e-age_max"' in response.get_data(as_text=True)
    assert service_count(app) == before


def test_a_partner_changes_a_service_and_confirms_its_entry(app, client, partner):
    service_id = add_service(app, partner.organisation_id, "Budgetbeheer", ("finances",), expected_wait_days=30)
    signed_in(client, partner)
    form = client.get(f"/services/{service_id}/edit").get_data(as_text=True)
    assert 'value="Budgetbeheer"' in form
    response = post_form(client, f"/services/{service_id}/edit",
                         {**SERVICE_FORM, "name": "Budgetbeheer", "expected_wait_days": "10"})
    assert response.status_code == 302
    confirm = post_form(client, f"/organisations/{partner.organisation_id}/confirm", {},
                        form_page=f"/organisations/{partner.organisation_id}")
    assert confirm.status_code == 302
    with app.app_context():
        assert db.session.get(Service, service_id).expected_wait_days == 10


def test_a_partner_names_its_contact_persons(app, client, partner):
    signed_in(client, partner)
    path = f"/organisations/{partner.organisation_id}/contacts"
    response = post_form(client, path, {"primary.name": "Consulent Visser", "primary.phone": "026 377 00 00",
                                        "primary.how_to_reach": "ma-do"})
    assert response.status_code == 302
    with app.app_context():
        [contact] = db.session.get(Organisation, partner.organisation_id).contacts
        assert (contact.name, contact.phone, contact.position) == ("Consulent Visser", "026 377 00 00", "primary")
    refused = post_form(client, path, {"primary.name": "Onbereikbaar"})
    assert refused.status_code == 422
    assert 'id="e-primary.phone"' in refused.get_data(as_text=True)


def test_a_partner_may_not_open_or_post_another_organisations_forms(app, client, partner, other):
    with app.app_context():
        service_id = db.session.scalar(select(Service.id).where(Service.organisation_id == other))
    signed_in(client, partner)
    assert 'href="/organisations/' + str(other) + '/contacts"' not in client.get(f"/organisations/{other}").get_data(
        as_text=True)
    token = csrf_token(client, "/account")
    for method, path in [("GET", f"/organisations/{other}/services/new"), ("GET", f"/organisations/{other}/contacts"),
                         ("GET", f"/services/{service_id}/edit"), ("POST", f"/organisations/{other}/services/new"),
                         ("POST", f"/organisations/{other}/contacts"), ("POST", f"/organisations/{other}/confirm"),
                         ("POST", f"/services/{service_id}/edit")]:
        response = client.open(path, method=method, data={"csrf_token": token, **SERVICE_FORM,
                                                           "primary.name": "X", "primary.phone": "0612345678"})
        assert response.status_code == 403, f"{method} {path}"
    with app.app_context():
        assert db.session.get(Service, service_id).name == "Urgente woning"
        assert db.session.get(Organisation, other).contacts[0].name == "Petra de Groot"


@pytest.mark.parametrize("role", ["coach", "director", "referrer"])
def test_readers_get_no_edit_forms(client, make, other, role):
    signed_in(client, make.user(role))
    assert client.get(f"/organisations/{other}").status_code == 200
    assert client.get(f"/organisations/{other}/services/new").status_code == 403
    assert client.get(f"/organisations/{other}/contacts").status_code == 403


def test_a_partner_finds_its_own_entry(client, partner):
    signed_in(client, partner)
    response = client.get("/directory/own")
    assert response.status_code == 302 and response.location.endswith(f"/organisations/{partner.organisation_id}")
    assert "Onze vermelding" in client.get("/directory").get_data(as_text=True)
