"""Admin-only pages refuse every other role with 403, and each refusal lands in the audit trail
even though the refused request's own transaction is rolled back."""
import pytest
from sqlalchemy import func, select

from hub.audit.models import AuditEvent, AuditResult
from hub.auth.models import User
from hub.auth.permissions import ROLE_PERMISSIONS
from hub.extensions import db
from hub.partners.models import Organisation
from hub.vocab import Role
from tests.web import csrf_token, signed_in

# Known admin-only pages; the test also finds any other route whose permission the role lacks.
ADMIN_ONLY = {("GET", "/admin/users"), ("POST", "/admin/users"), ("GET", "/organisations/new"),
              ("POST", "/organisations/new"), ("GET", "/audit"), ("POST", "/admin/users/<int:user_id>/active")}


OTHER_ROLES = ("coach", "referrer", "partner", "director")


def _admin_only_routes(app):
    """(method, rule) of every web route that needs a permission only the admin role has."""
    others = frozenset().union(*(ROLE_PERMISSIONS[Role(role)] for role in OTHER_ROLES))
    admin_only = ROLE_PERMISSIONS[Role.ADMIN] - others
    for rule in app.url_map.iter_rules():
        permission = getattr(app.view_functions[rule.endpoint], "required_permission", None)
        if permission in admin_only and not rule.rule.startswith("/api/"):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, rule.rule


def test_the_admin_only_pages_are_marked_as_needing_an_admin_permission(app):
    assert set(_admin_only_routes(app)) >= ADMIN_ONLY


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_admin_only_pages_refuse_other_roles_and_the_refusal_is_audited(app, make, client, role):
    admin = make.user("admin")
    someone = make.user(role)
    signed_in(client, someone)
    token = csrf_token(client, "/account")
    with app.app_context():
        organisations_before = db.session.scalar(select(func.count()).select_from(Organisation))
        last_event = db.session.scalar(select(func.max(AuditEvent.id))) or 0
    requests = 0
    for method, rule in _admin_only_routes(app):
        url = rule.replace("<int:user_id>", str(admin.id))
        data = {"csrf_token": token, "active": "0", "name": "Nieuwe organisatie", "kind": "housing",
                "municipality": "Ede", "email": "stiekem@hub.test", "organisation_id": str(someone.organisation_id),
                "role": "admin", "password": "kokosnoot regenjas 1987 vlieger"}
        response = client.open(url, method=method, data=data if method == "POST" else None)
        assert response.status_code == 403, f"{method} {url}"
        requests += 1
    assert requests >= len(ADMIN_ONLY)
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.id > last_event)
                                    .order_by(AuditEvent.id)).all()
        refusals = [e for e in events if e.result is AuditResult.REFUSED]
        assert len(refusals) == requests
        assert {e.user_id for e in refusals} == {someone.id}
        assert {e.user_role for e in refusals} == {role}
        assert all(e.tag.endswith(":refused") and e.source_address for e in refusals)
        # ... and nothing the refused requests tried to do happened.
        assert db.session.get(User, admin.id).active
        assert db.session.scalar(select(User).where(User.email == "stiekem@hub.test")) is None
        assert db.session.scalar(select(func.count()).select_from(Organisation)) == organisations_before


def test_an_admin_may_open_the_admin_pages(make, client):
    signed_in(client, make.user("admin"))
    for path in ("/admin/users", "/organisations/new", "/audit"):
        assert client.get(path).status_code == 200, path
