"""The OpenAPI document at /api/v1/openapi.json describes every API route there is."""
import re

import pytest

PARAMETER = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


@pytest.fixture
def spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def _api_operations(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.rule != "/api/v1/openapi.json":
            path = PARAMETER.sub(r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                yield path, method.lower()


def test_every_api_route_is_in_the_document(app, spec):
    operations = set(_api_operations(app))
    assert ("/api/v1/auth/login", "post") in operations
    documented = {(path, method) for path, item in spec["paths"].items() for method in item}
    assert operations - documented == set()


def test_the_document_describes_no_route_that_does_not_exist(app, spec):
    documented = {(path, method) for path, item in spec["paths"].items() for method in item
                  if method in ("get", "post", "put", "patch", "delete")}
    assert documented - set(_api_operations(app)) == set()


def test_every_operation_documents_its_success_answer(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                assert any(code.startswith("2") for code in operation["responses"]), f"{method} {path}"


def test_operations_behind_a_token_say_so(spec):
    login = spec["paths"]["/api/v1/auth/login"]["post"]
    assert not login.get("security")
    me = spec["paths"]["/api/v1/auth/me"]["get"]
    assert me["security"] == [{"bearer": []}]
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_the_error_shape_is_documented(spec):
    error = spec["components"]["schemas"]["Error"]
    assert "error" in error["properties"]
    detail = spec["components"]["schemas"]["ErrorDetail"]
    assert set(detail["properties"]) == {"code", "message", "fields"}
