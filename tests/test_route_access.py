"""Every route refuses an anonymous request, except the few that must be public. The list of public
routes is explicit: a new route that forgets its protection fails here."""
from werkzeug.routing import FloatConverter, IntegerConverter, Rule

from hub.api import PUBLIC_ENDPOINTS

# The only routes anyone may call without signing in, and why.
PUBLIC = {
    "/login": "the sign-in form",
    "/login/code": "the second sign-in step (needs the password step in the same browser session)",
    "/login/enrol": "first-time set-up of the authenticator (needs the password step too)",
    "/activate/<token>": "an invitation's one-time link (the token is the credential)",
    "/language": "the language switch on the sign-in page",
    "/healthz": "for load balancers; no data",
    "/favicon.ico": "browsers ask for it on their own; a redirect to the static icon",
    "/static/<path:filename>": "style sheets",
    "/api/v1/openapi.json": "the API description",
    "/api/v1/auth/login": "exchanging credentials for a token",
}


def _url(app, rule: Rule, method: str) -> str:
    """The rule's URL with sample values for its arguments (1 for numbers, "x" otherwise)."""
    values = {name: 1 if isinstance(converter, (IntegerConverter, FloatConverter)) else "x"
              for name, converter in rule._converters.items()}
    return app.url_map.bind("localhost").build(rule.endpoint, values, method=method)


def _protected_requests(app):
    for rule in app.url_map.iter_rules():
        if rule.rule in PUBLIC:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, _url(app, rule, method)


def test_every_public_route_exists(app):
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert set(PUBLIC) <= rules


def test_there_are_protected_routes_to_check(app):
    checked = {url for _method, url in _protected_requests(app)}
    assert {"/", "/admin/users", "/audit", "/api/v1/auth/me", "/api/v1/organisations"} <= checked


def test_every_non_public_route_refuses_an_anonymous_request(app, client, monkeypatch):
    # Switch CSRF off: the test is about the sign-in guard, which must hold on its own.
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    failures = []
    for method, url in _protected_requests(app):
        response = client.open(url, method=method, json={} if url.startswith("/api/") else None)
        if url.startswith("/api/"):
            body = response.get_json(silent=True) or {}
            refused = (response.status_code == 401 and body.get("error", {}).get("code") == "unauthorized"
                       and set(body["error"]) == {"code", "message", "fields"})
        else:
            location = response.headers.get("Location", "")
            refused = response.status_code == 401 or (
                response.status_code == 302 and location.split("?")[0].endswith("/login"))
        if not refused:
            failures.append(f"{method} {url} -> {response.status_code}")
    assert failures == []


def test_every_api_route_refuses_an_unknown_or_ended_token(app, client, make, api_login):
    coach = make.user("coach")
    ended = api_login(coach)
    assert client.post("/api/v1/auth/logout", headers=ended).status_code == 204
    for headers in ({"Authorization": "Bearer not-a-token"}, ended, {"Authorization": "Basic Zm9vOmJhcg=="}):
        for method, url in _protected_requests(app):
            if url.startswith("/api/"):
                response = client.open(url, method=method, json={}, headers=headers)
                assert response.status_code == 401, f"{method} {url} {headers}"


def test_an_anonymous_api_request_is_refused_before_its_arguments_are_read(client):
    response = client.get("/api/v1/organisations?kind=no-such-kind&per_page=0")
    assert response.status_code == 401
    assert response.get_json()["error"]["fields"] == {}


def test_public_routes_answer_without_signing_in(client):
    assert client.get("/login").status_code == 200
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/api/v1/openapi.json").status_code == 200
    static = client.get("/static/hub.css")
    assert static.status_code == 200
    static.close()
    for pending_step in ("/login/code", "/login/enrol"):
        response = client.get(pending_step)
        assert response.status_code == 302
        assert response.location.endswith("/login")


def test_the_api_lets_through_unsigned_only_the_routes_listed_here(app):
    public_api = {rule.rule for rule in app.url_map.iter_rules() if rule.endpoint in PUBLIC_ENDPOINTS}
    assert public_api <= set(PUBLIC)
    assert len(public_api) == len(PUBLIC_ENDPOINTS)
