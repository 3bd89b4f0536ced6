"""Fuzzing the API with schemathesis, as each role, over the hub's own OpenAPI document.

Every operation in /api/v1/openapi.json gets generated requests, valid ones (positive) and ones that
break the schema (negative), sent through the WSGI app (no server), signed in as a referrer, a coach,
a partner, a director or an admin. Each answer must:
- never be a 5xx;
- carry a status code the document names for that operation explicitly (the catch-all `default`
  response flask-smorest adds is left out here, so an undocumented 401/403/404 shows up);
- match the documented schema and content type;
- be a 4xx when the request broke the schema (negative).

Bounded and deterministic in `make test` (derandomized Hypothesis, a few hundred cases);
`make fuzz` runs the same with HUB_FUZZ_EXAMPLES raised.
"""
from __future__ import annotations

import copy
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import totp_now

EXAMPLES = int(os.environ.get("HUB_FUZZ_EXAMPLES", "5"))  # per operation, role mix and mode
ROLES = ("referrer", "coach", "partner", "director", "admin")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]
LAST = ("/api/v1/auth/logout",)  # ends the token it is called with: run it after everything else


def strict_document(spec: dict) -> dict:
    """The document without flask-smorest's catch-all `default` response: every status code an
    operation answers must be named."""
    spec = copy.deepcopy(spec)
    for item in spec["paths"].values():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                operation["responses"].pop("default", None)
    return spec


@pytest.fixture
def world(make, client, api_login):
    """One of everything, so that generated ids sometimes hit a real object: a programme with a
    coach and an accepted client, an open handoff, a consented debt-relief partner with a referral
    and a message, a trajectory with a goal; one signed-in user per role."""
    programme = make.organisation("exit_programme", name="Fuzz Uitstap")
    coach = make.user("coach", organisation_id=programme)
    referrer = make.user("referrer")
    partner_org = make.organisation("debt_relief", name="Fuzz Schuldhulp")
    partner = make.user("partner", organisation_id=partner_org)
    accounts = {"referrer": referrer, "coach": coach, "partner": partner,
                "director": make.user("director"), "admin": make.user("admin")}
    headers = {role: api_login(account) for role, account in accounts.items()}

    handoff_id, client_id = make.handoff(programme_id=programme, referrer=referrer)
    make.handoff(programme_id=programme, referrer=referrer)  # stays open: something to accept or decline
    coach_h, partner_h = headers["coach"], headers["partner"]
    assert client.post(f"/api/v1/referrals/{handoff_id}/accept", json={}, headers=coach_h).status_code == 200
    consent = client.post(f"/api/v1/clients/{client_id}/consents", headers=coach_h, json={
        "recipient_organisation_id": partner_org, "purpose": "service_referral", "scope": ["finances", "story"],
        "method": "written", "statement": "Schuldhulp mag mijn financiële situatie zien."})
    assert consent.status_code == 201, consent.get_json()
    referral = client.post(f"/api/v1/clients/{client_id}/service-referrals", headers=coach_h,
                           json={"organisation_id": partner_org, "domain": "finances", "note": "Beslag op loon"})
    assert referral.status_code == 201, referral.get_json()
    referral_id = referral.get_json()["id"]
    assert client.post(f"/api/v1/service-referrals/{referral_id}/messages", headers=partner_h,
                       json={"body": "Wanneer kan ze komen?"}).status_code == 201
    trajectories = client.get(f"/api/v1/clients/{client_id}/trajectories", headers=coach_h).get_json()
    trajectory_id = trajectories["items"][0]["id"]
    goal = client.post(f"/api/v1/trajectories/{trajectory_id}/goals", headers=coach_h, json={
        "domain": "finances", "score": 2, "target": 7, "deadline": "2027-06-01"})
    assert goal.status_code == 201, goal.get_json()
    service = client.post(f"/api/v1/organisations/{partner_org}/services", headers=partner_h,
                          json={"name": "Budgetcoaching", "domains": ["finances"]})
    ids = {"organisation_id": partner_org, "handoff_id": handoff_id, "client_id": client_id,
           "trajectory_id": trajectory_id, "goal_id": goal.get_json()["id"], "consent_id": consent.get_json()["id"],
           "referral_id": referral_id}
    if service.status_code == 201:
        ids["service_id"] = service.get_json()["id"]
    return {"headers": headers, "ids": ids, "accounts": accounts}


@pytest.fixture
def api_schema(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    # The API ignores query parameters it does not know (as most HTTP APIs do: cache busters, tracing),
    # so requests with made-up extra parameters are not "negative".
    config = schemathesis.Config.from_dict({"generation": {"allow-extra-parameters": False}})
    schema = schemathesis.openapi.from_dict(strict_document(spec), config=config)
    schema.app = app
    schema.location = "/api/v1/openapi.json"
    return schema


def _operations(api_schema):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    return sorted(operations, key=lambda op: (op.path in LAST, op.path, op.method))


def _headers_broken(case) -> bool:
    """Whether this negative case broke the headers on purpose (e.g. left the token out)."""
    components = case.meta.components if case.meta else {}
    return any(getattr(location, "value", location) == "header" and info.mode == GenerationMode.NEGATIVE
               for location, info in components.items())


def fuzz(operation, mode: GenerationMode, world: dict, examples: int) -> None:
    ids, headers = world["ids"], world["headers"]

    @given(case=operation.as_strategy(generation_mode=mode), role=st.sampled_from(ROLES), real_ids=st.booleans())
    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), print_blob=False)
    def run(case, role, real_ids):
        if real_ids and mode == GenerationMode.POSITIVE and case.path_parameters:
            case.path_parameters.update({k: ids[k] for k in case.path_parameters if k in ids})
        if not _headers_broken(case):  # else: the made-up or missing token must be refused
            case.headers = {**(case.headers or {}), **headers[role]}
        case.call_and_validate(checks=CHECKS)

    run()


def test_the_api_answers_every_generated_request_as_documented(world, api_schema):
    failures = []
    operations = _operations(api_schema)
    assert len(operations) >= 30
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                fuzz(operation, mode, world, EXAMPLES)
            except (Exception, BaseExceptionGroup) as exc:  # collect them all: one run shows every operation that fails
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)


def test_the_login_is_fuzzed_too_without_a_token(api_schema, make, client):
    """The one public operation, anonymous: no 5xx, documented answers, a token when the
    generated body happens to be right is impossible, so every answer is a 4xx."""
    account = make.user("coach")
    operation = next(op for op in _operations(api_schema) if op.path == "/api/v1/auth/login")

    @given(case=operation.as_strategy())
    @settings(max_examples=max(EXAMPLES * 5, 20), derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), print_blob=False)
    def run(case):
        response = case.call_and_validate(checks=CHECKS)
        assert response.status_code in (401, 422, 429), response.text

    run()
    good = client.post("/api/v1/auth/login", json={"email": account.email, "password": account.password,
                                                    "otp": totp_now(account)})
    assert good.status_code in (200, 429)


# --- what the fuzzing found, kept as plain regression tests ---------------------------------------

def _call(api_schema, path: str, method: str, **case):
    return api_schema[path][method].Case(**case).call_and_validate(checks=CHECKS)


def test_a_referrer_reading_its_handoffs_gets_the_documented_shape(world, api_schema):
    """Found: the referrer's status-only view broke the documented (coach's) schema."""
    referrer = world["headers"]["referrer"]
    _call(api_schema, "/api/v1/referrals", "GET", headers=referrer)
    _call(api_schema, "/api/v1/referrals/{handoff_id}", "GET", headers=referrer,
          path_parameters={"handoff_id": world["ids"]["handoff_id"]})
    _call(api_schema, "/api/v1/referrals/{handoff_id}", "GET", headers=world["headers"]["coach"],
          path_parameters={"handoff_id": world["ids"]["handoff_id"]})


@pytest.mark.parametrize("path, method, id_value", [
    ("/api/v1/referrals/{handoff_id}", "GET", 215008532856268939853824),  # was a 500 on SQLite
    ("/api/v1/clients/{client_id}/consents", "POST", 1781787128034),  # was a 405
    ("/api/v1/service-referrals/{referral_id}/messages", "POST", 2**31),  # was a 405
])
def test_an_id_beyond_the_database_is_a_404(world, api_schema, client, path, method, id_value):
    name = path.split("{")[1].split("}")[0]
    url = path.replace("{" + name + "}", str(id_value))
    response = client.open(url, method=method, json={"body": "x"}, headers=world["headers"]["coach"])
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_an_integer_beyond_the_database_in_a_body_or_query_is_a_422_naming_it(world, client):
    """Found: a 500 ("Python int too large to convert to SQLite INTEGER")."""
    from tests.factories import handoff_body

    body = handoff_body(2**80)
    response = client.post("/api/v1/referrals", json=body, headers=world["headers"]["referrer"])
    assert response.status_code == 422
    assert "to_organisation_id" in response.get_json()["error"]["fields"]
    response = client.get(f"/api/v1/service-referrals?client_id={2**70}", headers=world["headers"]["coach"])
    assert response.status_code == 422
    assert "client_id" in response.get_json()["error"]["fields"]
    response = client.get(f"/api/v1/service-referrals?client_id={2**31 - 1}", headers=world["headers"]["coach"])
    assert response.status_code == 200


def test_a_body_that_is_not_json_is_a_documented_400(api_schema):
    """Found: the 400 for a body that is not JSON was not documented."""
    operation = api_schema["/api/v1/auth/login"]["POST"]
    response = operation.Case(body={}).call(data=b"\x00", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    operation.Case(body={}).validate_response(response, checks=CHECKS)


def test_every_operation_documents_the_errors_the_shared_machinery_answers(client):
    """Found: undocumented 401s, 403s, 404s and 400s, and error answers without the error shape."""
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, item in spec["paths"].items():
        path_parameters = [p for p in item.get("parameters", []) if p["in"] == "path"]
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation["responses"]
            if path != "/api/v1/auth/login":
                assert "401" in responses and operation["security"] == [{"bearer": []}], (method, path)
            if "{" in path:
                assert "404" in responses, (method, path)
                assert path_parameters and all(p["schema"].get("maximum") == 2**31 - 1 for p in path_parameters)
            if "requestBody" in operation:
                assert "400" in responses, (method, path)
            for code, response in responses.items():
                if code.startswith("4"):
                    if "$ref" in response:
                        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, code)
    assert "403" not in spec["paths"]["/api/v1/organisations"]["get"]["responses"]  # every role may list them
    assert "403" in spec["paths"]["/api/v1/referrals"]["post"]["responses"]


def test_a_report_period_with_only_a_distant_start_is_refused(world, client):
    """Found: `?from=0620-11-23` (no `to`: today) passed the five-year limit, which was only checked
    when both ends were given, and the monthly breakdown of 1,400 years was a 500 on SQLite."""
    for path in ("/api/v1/reports/bottlenecks", "/api/v1/reports/waiting-times"):
        response = client.get(f"{path}?from=0620-11-23", headers=world["headers"]["director"])
        assert response.status_code == 422, (path, response.get_json())
        assert "from" in response.get_json()["error"]["fields"]
