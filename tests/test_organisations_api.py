"""`GET /api/v1/organisations`: the directory, filtered by kind, life domain and municipality, page by page."""
import pytest


@pytest.fixture
def directory(make):
    """A small chain in two municipalities; returns {name: id}."""
    entries = [("Schuldhulp Ede", "debt_relief", "Ede"), ("Schuldhulp Arnhem", "debt_relief", "Arnhem"),
               ("Budgetbureau Ede", "benefits", "Ede"), ("Woonstichting Ede", "housing", "Ede"),
               ("Verslavingszorg Ede", "addiction_care", "Ede"), ("Politie Ede", "police", "Ede")]
    return {name: make.organisation(kind, municipality=municipality, name=name)
            for name, kind, municipality in entries}


@pytest.fixture
def headers(make, api_login):
    return api_login(make.user("coach"))


def names(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item["name"] for item in response.get_json()["items"]]


def test_filter_by_kind(client, directory, headers):
    assert names(client.get("/api/v1/organisations?kind=debt_relief", headers=headers)) == [
        "Schuldhulp Arnhem", "Schuldhulp Ede"]


def test_filter_by_life_domain_finds_every_kind_that_serves_it(client, directory, headers):
    found = names(client.get("/api/v1/organisations?domain=finances&municipality=Ede", headers=headers))
    assert found == ["Budgetbureau Ede", "Schuldhulp Ede"]
    assert names(client.get("/api/v1/organisations?domain=mental_health&municipality=Ede", headers=headers)) == [
        "Verslavingszorg Ede"]


def test_filter_by_municipality_ignores_case(client, directory, headers):
    found = names(client.get("/api/v1/organisations?municipality=arnhem", headers=headers))
    assert found == ["Schuldhulp Arnhem"]


def test_filters_combine(client, directory, headers):
    assert names(client.get("/api/v1/organisations?kind=housing&municipality=Arnhem", headers=headers)) == []


def test_an_organisation_shows_its_kind_municipality_and_domains(client, directory, headers):
    [item] = client.get("/api/v1/organisations?kind=addiction_care", headers=headers).get_json()["items"]
    shown = {key: item[key] for key in ("id", "name", "kind", "municipality", "domains")}
    assert shown == {"id": directory["Verslavingszorg Ede"], "name": "Verslavingszorg Ede", "kind": "addiction_care",
                     "municipality": "Ede", "domains": ["mental_health", "physical_health"]}


def test_pages_say_whether_another_follows(client, directory, headers):
    first = client.get("/api/v1/organisations?municipality=Ede&per_page=3", headers=headers).get_json()
    assert (first["page"], first["per_page"], first["has_next"]) == (1, 3, True)
    second = client.get("/api/v1/organisations?municipality=Ede&per_page=3&page=2", headers=headers).get_json()
    assert second["has_next"] is False
    seen = [i["name"] for i in first["items"]] + [i["name"] for i in second["items"]]
    assert sorted(seen) == sorted(name for name in directory if name.endswith("Ede"))
    assert len(set(seen)) == 5


@pytest.mark.parametrize(("query", "field"), [("kind=bakery", "kind"), ("domain=cooking", "domain"),
                                              ("per_page=0", "per_page"), ("per_page=101", "per_page"),
                                              ("page=0", "page")])
def test_an_unknown_filter_value_answers_422_naming_it(client, headers, query, field):
    response = client.get(f"/api/v1/organisations?{query}", headers=headers)
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == [field]
