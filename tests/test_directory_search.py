"""The directory search: life domain and municipality narrow the candidates, the client's situation
never hides a partner but says why it does not fit; fitting partners first, then by measured waiting."""
import pytest

import hub.partners.search as search_module
from hub.partners.service import WaitingMeasurement
from tests.directory_support import add_service

SEARCH = "/api/v1/directory/search"
EN = {"Accept-Language": "en"}


@pytest.fixture
def headers(make, api_login):
    return {**api_login(make.user("coach")), **EN}


@pytest.fixture
def chain(app, make):
    """Partners around Arnhem; returns {name: organisation id}."""
    ids = {
        "Opvang Arnhem": make.organisation("shelter", municipality="Arnhem", name="Opvang Arnhem"),
        "Woonstichting Arnhem": make.organisation("housing", municipality="Arnhem", name="Woonstichting Arnhem"),
        "Woonstichting Ede": make.organisation("housing", municipality="Ede", name="Woonstichting Ede"),
        "Schuldhulp Arnhem": make.organisation("debt_relief", municipality="Arnhem", name="Schuldhulp Arnhem"),
    }
    add_service(app, ids["Opvang Arnhem"], "Vrouwenopvang", ("housing",), municipalities=["Arnhem", "Renkum"],
                genders=["female", "transgender"], legal_positions=["resident", "no_residence"], age_min=18,
                languages=["nl", "en", "ro"], accepts_active_addiction=True, expected_wait_days=3)
    add_service(app, ids["Woonstichting Arnhem"], "Urgente woning", ("housing",), municipalities=["Arnhem"],
                legal_positions=["resident"], accepts_active_addiction=False, age_min=18, age_max=65,
                languages=["nl"], expected_wait_days=120)
    return ids


def found(response) -> dict:
    assert response.status_code == 200, response.get_json()
    return {item["name"]: item for item in response.get_json()["items"]}


def reasons(item) -> dict:
    return {reason["code"]: reason["message"] for reason in item["why_not"]}


def test_a_partner_without_residence_rules_fits_and_one_that_requires_residence_says_why(client, chain, headers):
    items = found(client.get(f"{SEARCH}?domain=housing&municipality=Arnhem&legal_position=no_residence",
                             headers=headers))
    assert items["Opvang Arnhem"]["fit"] is True and items["Opvang Arnhem"]["why_not"] == []
    assert items["Woonstichting Arnhem"]["fit"] is False
    assert reasons(items["Woonstichting Arnhem"]) == {"legal_position": "accepts no clients without residence"}
    assert "Woonstichting Ede" not in items, "another municipality is not a candidate"
    assert "Schuldhulp Arnhem" not in items, "another life domain is not a candidate"


def test_the_reasons_are_in_dutch_by_default(client, chain, make, api_login):
    headers = api_login(make.user("coach"))
    items = found(client.get(f"{SEARCH}?domain=housing&municipality=Arnhem&legal_position=no_residence",
                             headers=headers))
    assert reasons(items["Woonstichting Arnhem"]) == {"legal_position": "neemt geen cliënten zonder verblijfsrecht aan"}


@pytest.mark.parametrize(("query", "code", "message"), [
    ("gender=male", "gender", "serves only women, transgender people"),
    ("age=17", "age", "only for clients aged 18 or older"),
    ("language=bg", "languages", "does not speak bg (speaks nl, en, ro)"),
    ("municipality=Renkum", None, None),
])
def test_each_criterion_gives_its_own_reason(client, chain, headers, query, code, message):
    item = found(client.get(f"{SEARCH}?domain=housing&{query}", headers=headers))["Opvang Arnhem"]
    if code is None:
        assert item["fit"] is True
    else:
        assert item["fit"] is False
        assert reasons(item) == {code: message}
        assert item["services"][0]["why_not"] == item["why_not"]


def test_active_addiction_and_an_age_range_are_checked(client, chain, headers):
    items = found(client.get(f"{SEARCH}?domain=housing&municipality=Arnhem&active_addiction=true&age=70",
                             headers=headers))
    assert items["Opvang Arnhem"]["fit"] is True
    assert reasons(items["Woonstichting Arnhem"]) == {
        "active_addiction": "accepts no clients with an active addiction", "age": "only for clients aged 18 to 65"}


def test_several_languages_fit_when_the_service_speaks_one_of_them(client, chain, headers):
    items = found(client.get(f"{SEARCH}?domain=housing&language=bg&language=ro", headers=headers))
    assert items["Opvang Arnhem"]["fit"] is True


def test_a_service_area_brings_in_a_partner_from_another_municipality(client, chain, headers):
    items = found(client.get(f"{SEARCH}?domain=housing&municipality=renkum", headers=headers))
    assert list(items) == ["Opvang Arnhem"]


def test_a_service_that_does_not_serve_the_municipality_says_so(app, client, make, headers):
    organisation = make.organisation("housing", municipality="Arnhem", name="Woonstichting Oost")
    add_service(app, organisation, "Kamers in Velp", ("housing",), municipalities=["Rheden"])
    item = found(client.get(f"{SEARCH}?domain=housing&municipality=Arnhem", headers=headers))["Woonstichting Oost"]
    assert reasons(item) == {"municipality": "does not serve clients from Arnhem"}


def test_a_partner_without_services_fits_on_its_kind_with_eligibility_not_stated(client, chain, headers):
    item = found(client.get(f"{SEARCH}?domain=finances&municipality=Arnhem&legal_position=no_residence",
                            headers=headers))["Schuldhulp Arnhem"]
    assert item["fit"] is True
    assert item["eligibility_stated"] is False
    assert item["services"] == []
    assert item["domains"] == ["finances"]


def test_fitting_partners_come_first_then_by_name(client, chain, headers):
    response = client.get(f"{SEARCH}?domain=housing&legal_position=no_residence", headers=headers)
    assert [(i["name"], i["fit"]) for i in response.get_json()["items"]] == [
        ("Opvang Arnhem", True), ("Woonstichting Ede", True), ("Woonstichting Arnhem", False)]


def test_fit_only_leaves_out_the_partners_that_do_not_fit(client, chain, headers):
    items = found(client.get(f"{SEARCH}?domain=housing&legal_position=no_residence&fit_only=true", headers=headers))
    assert set(items) == {"Opvang Arnhem", "Woonstichting Ede"}


def test_partners_are_sorted_by_measured_waiting_with_the_unmeasured_last(client, chain, headers, monkeypatch):
    measured = {chain["Woonstichting Ede"]: WaitingMeasurement(median_wait_days=9.5, waiting_now=4),
                chain["Woonstichting Arnhem"]: WaitingMeasurement(median_wait_days=30.0, waiting_now=11)}
    monkeypatch.setattr(search_module, "measured_waiting", lambda ids, now=None: {i: measured[i] for i in ids
                                                                                    if i in measured})
    items = client.get(f"{SEARCH}?domain=housing", headers=headers).get_json()["items"]
    assert [i["name"] for i in items] == ["Woonstichting Ede", "Woonstichting Arnhem", "Opvang Arnhem"]
    assert (items[0]["measured_median_wait_days"], items[0]["measured_waiting_now"], items[0]["measurements"]) == (
        9.5, 4, "measured")


def test_without_measurements_the_search_says_so_honestly(client, chain, headers):
    item = found(client.get(f"{SEARCH}?domain=housing", headers=headers))["Opvang Arnhem"]
    assert (item["measured_median_wait_days"], item["measured_waiting_now"], item["measurements"]) == (
        None, None, "none_yet")
    assert item["services"][0]["expected_wait_days"] == 3


def test_the_search_is_paginated(client, make, headers):
    for n in range(5):
        make.organisation("debt_relief", municipality="Zutphen", name=f"Schuldhulp {n}")
    first = client.get(f"{SEARCH}?municipality=Zutphen&per_page=2", headers=headers).get_json()
    third = client.get(f"{SEARCH}?municipality=Zutphen&per_page=2&page=3", headers=headers).get_json()
    assert ([i["name"] for i in first["items"]], first["has_next"]) == (["Schuldhulp 0", "Schuldhulp 1"], True)
    assert ([i["name"] for i in third["items"]], third["has_next"]) == (["Schuldhulp 4"], False)


def test_an_organisation_whose_services_are_all_inactive_does_not_fit(app, client, make, headers, api_login):
    organisation = make.organisation("housing", municipality="Doesburg", name="Woonstichting Doesburg")
    service_id = add_service(app, organisation, "Oud aanbod", ("housing",), municipalities=["Doesburg"])
    admin = api_login(make.user("admin"))
    assert client.patch(f"/api/v1/services/{service_id}", json={"status": "inactive"}, headers=admin).status_code == 200
    item = found(client.get(f"{SEARCH}?municipality=Doesburg", headers=headers))["Woonstichting Doesburg"]
    assert (item["fit"], reasons(item), item["domains"]) == (False, {"inactive": "offers no services at the moment"},
                                                              [])


@pytest.mark.parametrize(("query", "field"), [("domain=cooking", "domain"),
                                              ("legal_position=tourist", "legal_position"),
                                              ("gender=x", "gender"), ("age=-1", "age"), ("age=121", "age"),
                                              ("language=Romanian", "language"), ("kind=bakery", "kind"),
                                              ("per_page=101", "per_page")])
def test_bad_search_input_answers_422_naming_the_field(client, headers, query, field):
    response = client.get(f"{SEARCH}?{query}", headers=headers)
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == [field]
