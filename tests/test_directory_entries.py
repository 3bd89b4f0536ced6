"""Keeping a directory entry current over the API: who may edit which entry, what is refused with 422
(naming the field, saving nothing), the fixed contacts, and GET /organisations still answering its contract."""
import pytest
from sqlalchemy import select

from hub.audit.models import AuditEvent, AuditResult
from hub.extensions import db
from hub.partners.models import Organisation, Service
from hub.partners.service import contact_users
from tests.directory_support import add_service, name_contacts, service_body, service_count

CONTACTS = {"primary": {"name": "Petra de Groot", "role": "Consulent bijzondere doelgroepen",
                        "phone": "026 355 00 00", "email": "Petra@DeRijn.test", "how_to_reach": "di en do"},
            "backup": {"name": "Karin Meijer", "phone": "+31 26 355 00 01"}}


@pytest.fixture
def partner(make):
    """A partner user and its own organisation (debt relief in Utrecht)."""
    return make.user("partner")


@pytest.fixture
def other(make):
    return make.organisation("housing", municipality="Ede", name="Woonstichting Ede")


def last_events(app, tag_prefix: str) -> list[AuditEvent]:
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.tag.startswith(tag_prefix))
                                  .order_by(AuditEvent.id)).all()


# --- the permission matrix ------------------------------------------------------------------------

WRITES = [
    ("post", "/api/v1/organisations/{org}/services", service_body()),
    ("put", "/api/v1/organisations/{org}/contacts", CONTACTS),
    ("post", "/api/v1/organisations/{org}/confirm", None),
    ("patch", "/api/v1/services/{service}", {"expected_wait_days": 5}),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_a_partner_edits_its_own_entry(app, client, api_login, partner, method, path, body):
    service = add_service(app, partner.organisation_id, "Bestaande dienst", ("finances",))
    response = client.open(path.format(org=partner.organisation_id, service=service), method=method, json=body,
                           headers=api_login(partner))
    assert response.status_code in (200, 201), response.get_json()


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_a_partner_may_not_edit_another_organisations_entry(app, client, api_login, partner, other, method, path,
                                                            body):
    service = add_service(app, other, "Hun dienst", ("housing",))
    before = service_count(app)
    response = client.open(path.format(org=other, service=service), method=method, json=body,
                           headers=api_login(partner))
    assert response.status_code == 403
    assert service_count(app) == before
    with app.app_context():
        assert db.session.get(Service, service).expected_wait_days is None
        assert db.session.get(Organisation, other).contacts == []
    refusal = last_events(app, "auth:directory:edit:refused")[-1]
    assert (refusal.result, refusal.user_id, refusal.object_id) == (AuditResult.REFUSED, partner.id, str(other))


@pytest.mark.parametrize("role", ["coach", "director", "referrer"])
@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_coaches_directors_and_referrers_read_but_do_not_edit(app, client, make, api_login, other, role, method,
                                                              path, body):
    service = add_service(app, other, "Hun dienst", ("housing",))
    headers = api_login(make.user(role))
    assert client.get(f"/api/v1/organisations/{other}", headers=headers).status_code == 200
    response = client.open(path.format(org=other, service=service), method=method, json=body, headers=headers)
    assert response.status_code == 403


def test_an_admin_registers_organisations_and_may_set_up_any_entry(app, client, make, api_login):
    headers = api_login(make.user("admin"))
    response = client.post("/api/v1/organisations", json={"name": "Kredietbank Nijmegen", "kind": "debt_relief",
                                                          "municipality": "Nijmegen"}, headers=headers)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert (created["domains"], created["services"], created["contacts"]) == (["finances"], [], [])
    added = client.post(f"/api/v1/organisations/{created['id']}/services", json=service_body(), headers=headers)
    assert added.status_code == 201


@pytest.mark.parametrize("role", ["coach", "director", "referrer", "partner"])
def test_only_admins_register_organisations(client, make, api_login, role):
    response = client.post("/api/v1/organisations", json={"name": "Nep", "kind": "housing", "municipality": "Ede"},
                           headers=api_login(make.user(role)))
    assert response.status_code == 403


def test_an_entry_that_does_not_exist_is_404(client, partner, api_login):
    headers = api_login(partner)
    assert client.get("/api/v1/organisations/999999", headers=headers).status_code == 404
    assert client.post("/api/v1/organisations/999999/services", json=service_body(),
                       headers=headers).status_code == 404
    assert client.patch("/api/v1/services/999999", json={"name": "x"}, headers=headers).status_code == 404


# --- writing services -----------------------------------------------------------------------------

def test_a_new_service_is_stored_with_its_eligibility_and_audited(app, client, api_login, partner):
    response = client.post(f"/api/v1/organisations/{partner.organisation_id}/services", json=service_body(),
                           headers=api_login(partner))
    assert response.status_code == 201
    service = response.get_json()
    expected = {**service_body(), "status": "active", "organisation_id": partner.organisation_id,
                "assured_date": "2026-11-23"}
    assert {key: service[key] for key in expected} == expected
    [event] = last_events(app, "partners:service:created")
    assert (event.user_id, event.object_id) == (partner.id, str(service["id"]))


def test_a_service_serves_its_organisations_municipality_unless_told_otherwise(client, api_login, partner):
    body = service_body()
    del body["municipalities"]
    service = client.post(f"/api/v1/organisations/{partner.organisation_id}/services", json=body,
                          headers=api_login(partner)).get_json()
    assert service["municipalities"] == ["Utrecht"]


def test_once_an_organisation_has_services_their_domains_replace_its_kinds(app, client, api_login, partner):
    headers = api_login(partner)
    entry = client.get(f"/api/v1/organisations/{partner.organisation_id}", headers=headers).get_json()
    assert entry["domains"] == ["finances"]  # debt relief's default
    service_id = add_service(app, partner.organisation_id, "Budgetcursus", ("practical", "finances"))
    add_service(app, partner.organisation_id, "Werkplek", ("work",), status="inactive")
    entry = client.get(f"/api/v1/organisations/{partner.organisation_id}", headers=headers).get_json()
    assert entry["domains"] == ["finances", "practical"]
    assert [s["name"] for s in entry["services"]] == ["Budgetcursus", "Werkplek"]
    listed = client.get("/api/v1/organisations?domain=practical&municipality=Utrecht", headers=headers).get_json()
    assert [i["id"] for i in listed["items"]] == [partner.organisation_id]
    assert client.get("/api/v1/organisations?domain=work&municipality=Utrecht",
                      headers=headers).get_json()["items"] == []
    client.patch(f"/api/v1/services/{service_id}", json={"status": "inactive"}, headers=headers)
    assert client.get(f"/api/v1/organisations/{partner.organisation_id}", headers=headers).get_json()["domains"] == []
    assert client.get("/api/v1/organisations?domain=finances&municipality=Utrecht",
                      headers=headers).get_json()["items"] == []


def test_a_patch_changes_only_the_fields_given(app, client, api_login, partner):
    headers = api_login(partner)
    service = client.post(f"/api/v1/organisations/{partner.organisation_id}/services", json=service_body(),
                          headers=headers).get_json()
    response = client.patch(f"/api/v1/services/{service['id']}", json={"expected_wait_days": 30,
                                                                       "languages": ["nl", "ar"]}, headers=headers)
    assert response.status_code == 200
    changed = response.get_json()
    assert (changed["expected_wait_days"], changed["languages"]) == (30, ["nl", "ar"])
    assert {k: changed[k] for k in ("name", "domains", "municipalities", "age_min")} == {
        k: service[k] for k in ("name", "domains", "municipalities", "age_min")}
    assert last_events(app, "partners:service:updated")[-1].detail == "changed: expected_wait_days, languages"


@pytest.mark.parametrize(("change", "field"), [
    ({"domains": ["cooking"]}, "domains"),
    ({"domains": []}, "domains"),
    ({"age_min": 40, "age_max": 20}, "age_max"),
    ({"municipalities": ["Arnhem", ""]}, "municipalities"),
    ({"municipalities": ["   "]}, "municipalities"),
    ({"genders": ["martian"]}, "genders"),
    ({"legal_positions": ["tourist"]}, "legal_positions"),
    ({"languages": ["Nederlands"]}, "languages"),
    ({"status": "closed"}, "status"),
    ({"expected_wait_days": -1}, "expected_wait_days"),
    ({"name": ""}, "name"),
])
def test_bad_service_input_is_422_naming_the_field_and_saves_nothing(app, client, api_login, partner, change, field):
    before = service_count(app)
    response = client.post(f"/api/v1/organisations/{partner.organisation_id}/services",
                           json=service_body(**change), headers=api_login(partner))
    assert response.status_code == 422, response.get_json()
    assert list(response.get_json()["error"]["fields"]) == [field]
    assert service_count(app) == before


def test_a_patch_that_turns_the_age_range_upside_down_is_422_and_changes_nothing(app, client, api_login, partner):
    service_id = add_service(app, partner.organisation_id, "Jongeren", ("finances",), age_min=16, age_max=23)
    response = client.patch(f"/api/v1/services/{service_id}", json={"age_min": 30, "expected_wait_days": 3},
                            headers=api_login(partner))
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["age_max"]
    with app.app_context():
        service = db.session.get(Service, service_id)
        assert (service.age_min, service.age_max, service.expected_wait_days) == (16, 23, None)


def test_two_services_of_one_organisation_do_not_share_a_name(app, client, api_login, partner):
    add_service(app, partner.organisation_id, "Crisisopvang", ("housing",))
    response = client.post(f"/api/v1/organisations/{partner.organisation_id}/services", json=service_body(),
                           headers=api_login(partner))
    assert response.status_code == 409
    assert list(response.get_json()["error"]["fields"]) == ["name"]


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "Bakkerij", "kind": "bakery", "municipality": "Ede"}, "kind"),
    ({"name": "Woonstichting", "kind": "housing", "municipality": ""}, "municipality"),
    ({"name": "Woonstichting", "kind": "housing", "municipality": "   "}, "municipality"),
])
def test_bad_organisation_input_is_422_naming_the_field(app, client, make, api_login, body, field):
    headers = api_login(make.user("admin"))
    with app.app_context():
        before = db.session.query(Organisation).count()
    response = client.post("/api/v1/organisations", json=body, headers=headers)
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == [field]
    with app.app_context():
        assert db.session.query(Organisation).count() == before


# --- contacts -------------------------------------------------------------------------------------

def test_the_fixed_contact_and_backup_are_shown_primary_first(app, client, api_login, partner, make):
    response = client.put(f"/api/v1/organisations/{partner.organisation_id}/contacts", json=CONTACTS,
                          headers=api_login(partner))
    assert response.status_code == 200, response.get_json()
    coach_view = client.get(f"/api/v1/organisations/{partner.organisation_id}",
                            headers=api_login(make.user("coach"))).get_json()
    assert [(c["position"], c["name"], c["email"]) for c in coach_view["contacts"]] == [
        ("primary", "Petra de Groot", "petra@derijn.test"), ("backup", "Karin Meijer", "")]
    assert last_events(app, "partners:contacts:updated")[-1].user_id == partner.id


def test_leaving_out_the_backup_removes_it(client, api_login, partner):
    headers = api_login(partner)
    client.put(f"/api/v1/organisations/{partner.organisation_id}/contacts", json=CONTACTS, headers=headers)
    response = client.put(f"/api/v1/organisations/{partner.organisation_id}/contacts",
                          json={"primary": CONTACTS["primary"]}, headers=headers)
    assert [c["position"] for c in response.get_json()["contacts"]] == ["primary"]


@pytest.mark.parametrize(("primary", "field"), [
    ({"name": "Zonder nummer"}, "primary.phone"),
    ({"name": "A", "phone": "bel me"}, "primary.phone"),
    ({"name": "A", "email": "geen-adres"}, "primary.email"),
    ({"name": "  ", "phone": "0612345678"}, "primary.name"),
])
def test_a_contact_nobody_can_reach_is_refused(client, api_login, partner, primary, field):
    response = client.put(f"/api/v1/organisations/{partner.organisation_id}/contacts", json={"primary": primary},
                          headers=api_login(partner))
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == [field]


def test_contact_users_are_the_named_contacts_accounts_or_else_the_active_staff(app, make, partner):
    colleague = make.user("partner", organisation_id=partner.organisation_id)
    with app.app_context():
        assert [u.id for u in contact_users(partner.organisation_id)] == [partner.id, colleague.id]
    name_contacts(app, partner.organisation_id, {"name": "Collega", "email": colleague.email.upper()},
                  {"name": "Iemand zonder account", "phone": "0612345678"})
    with app.app_context():
        assert [u.id for u in contact_users(partner.organisation_id)] == [colleague.id]
    name_contacts(app, partner.organisation_id, {"name": "Extern", "email": "extern@elders.test"},
                  {"name": "Partner", "email": partner.email})
    with app.app_context():
        assert [u.id for u in contact_users(partner.organisation_id)] == [partner.id]


def test_a_contact_with_the_address_of_someone_in_another_organisation_is_not_told(app, make, partner):
    outsider = make.user("coach")
    name_contacts(app, partner.organisation_id, {"name": "Verkeerd", "email": outsider.email})
    with app.app_context():
        assert [u.id for u in contact_users(partner.organisation_id)] == [partner.id]


# --- the public contract --------------------------------------------------------------------------

def test_get_organisations_keeps_its_contract_and_adds_measured_waiting(client, make, api_login):
    make.organisation("debt_relief", municipality="Ede", name="Schuldhulp Ede")
    body = client.get("/api/v1/organisations?kind=debt_relief&domain=finances&municipality=Ede",
                      headers=api_login(make.user("coach"))).get_json()
    assert set(body) == {"items", "page", "per_page", "has_next"}
    [item] = body["items"]
    assert {"id", "name", "kind", "municipality", "domains"} <= set(item)
    assert (item["measured_median_wait_days"], item["measured_waiting_now"], item["measurements"]) == (
        None, None, "none_yet")
    assert (item["stale"], item["has_services"]) == (False, False)


def test_the_openapi_document_describes_the_directory(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"/api/v1/directory/search", "/api/v1/organisations/{organisation_id}/services",
            "/api/v1/services/{service_id}", "/api/v1/organisations/{organisation_id}/contacts"} <= set(spec["paths"])
    result = spec["components"]["schemas"]["SearchResult"]["properties"]
    assert {"fit", "why_not", "measured_median_wait_days", "measurements"} <= set(result)


def test_the_demo_partners_have_services_and_contacts_and_a_second_run_adds_nothing(app, runner):
    counts = []
    for _ in range(2):
        result = runner.invoke(args=["hub", "demo"])
        assert result.exit_code == 0, result.output
        counts.append(service_count(app))
    assert counts[0] == counts[1] >= 5
    with app.app_context():
        housing = db.session.scalar(select(Organisation).where(Organisation.name == "Woonstichting De Rijn"))
        assert [s.name for s in housing.services] == ["Urgente huisvesting"]
        assert [c.position for c in housing.contacts] == ["primary", "backup"]
        debt = db.session.scalar(select(Organisation).where(Organisation.name == "Schuldhulp Arnhem"))
        assert [u.email for u in contact_users(debt.id)] == ["schuldhulp@partner.demo.test"]
