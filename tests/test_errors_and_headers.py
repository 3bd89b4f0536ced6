"""Errors answer in one shape (API) or the hub's own page (web), never with a trace; every answer
carries the security headers."""
import pytest

from config import Config
from hub import create_app
from hub.crypto import new_key

ERROR_KEYS = {"code", "message", "fields"}


def assert_api_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == ERROR_KEYS
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    return body["error"]


def test_an_unknown_api_path_answers_404_in_json(client):
    assert_api_error(client.get("/api/v1/no-such-thing"), 404, "not_found")


def test_a_wrong_method_on_the_api_answers_405_in_json(client):
    assert_api_error(client.get("/api/v1/auth/login"), 405, "method_not_allowed")


def test_a_body_that_is_not_json_answers_400_in_json(client):
    response = client.post("/api/v1/auth/login", data="{not json", content_type="application/json")
    assert_api_error(response, 400, "bad_request")


def test_a_missing_token_answers_401_in_json(client):
    assert_api_error(client.get("/api/v1/auth/me"), 401, "unauthorized")


def test_invalid_fields_answer_422_naming_them(client):
    error = assert_api_error(client.post("/api/v1/auth/login", json={"email": "a@b.c"}), 422, "validation_error")
    assert set(error["fields"]) == {"password", "otp"}


def test_a_too_large_body_answers_413_in_json(client):
    response = client.post("/api/v1/auth/login", data="x" * (1024 * 1024 + 1), content_type="application/json")
    assert_api_error(response, 413, "payload_too_large")


def test_an_unknown_web_page_answers_with_the_hubs_404_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "hub.css" in html
    assert "404" in html


@pytest.fixture
def failing_app(tmp_path):
    """A hub with one route that fails, to see what a 500 looks like."""
    app = create_app(Config(env="test", testing=True, instance_path=str(tmp_path),
                            database_url=f"sqlite:///{tmp_path}/fail.sqlite3"))

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail /home/hub/app.py line 42")

    @app.get("/api/v1/boom")
    def api_boom():
        raise RuntimeError("secret detail /home/hub/app.py line 42")

    return app


def test_a_failure_never_shows_a_trace(failing_app, caplog):
    client = failing_app.test_client()
    page = client.get("/boom")
    assert page.status_code == 500
    assert page.mimetype == "text/html"
    api = client.get("/api/v1/boom")
    assert_api_error(api, 500, "internal_error")
    for response in (page, api):
        text = response.get_data(as_text=True)
        assert "secret detail" not in text
        assert "Traceback" not in text
    assert "secret detail" in caplog.text, "but the log has it, for whoever runs the hub"


@pytest.mark.parametrize("path", ["/login", "/api/v1/auth/me", "/no-such-page", "/healthz"])
def test_every_answer_carries_the_security_headers(client, path):
    response = client.get(path)
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in headers, "HSTS only in production (https)"


def test_production_adds_hsts_and_a_secure_host_only_cookie(tmp_path):
    app = create_app(Config(env="production", instance_path=str(tmp_path),
                            database_url=f"sqlite:///{tmp_path}/prod.sqlite3",
                            secret_key="a-production-secret-of-more-than-32-characters",
                            field_keys=[new_key()],
                            base_url="https://hub.example.nl"))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_NAME"].startswith("__Host-")
    response = app.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_an_id_too_large_for_the_database_is_simply_not_found(client, make, api_login):
    headers = api_login(make.user("coach"))
    response = client.get(f"/api/v1/clients/{2**31}", headers=headers)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
