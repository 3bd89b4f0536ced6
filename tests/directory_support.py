"""Helpers for the directory tests: services and contacts made through the service layer."""
from __future__ import annotations

from hub.clock import utcnow
from hub.extensions import db
from hub.partners.entries import create_service, set_contacts
from hub.partners.models import Organisation, Service


def add_service(app, organisation_id: int, name: str = "Dienst", domains=("housing",), **values) -> int:
    """A service on an organisation's entry; returns its id."""
    with app.test_request_context():
        organisation = db.session.get(Organisation, organisation_id)
        service = create_service(None, organisation, {"name": name, "domains": list(domains), **values}, utcnow())
        db.session.commit()
        return service.id


def name_contacts(app, organisation_id: int, primary: dict, backup: dict | None = None) -> None:
    with app.test_request_context():
        set_contacts(None, db.session.get(Organisation, organisation_id), primary, backup, utcnow())
        db.session.commit()


def service_count(app) -> int:
    with app.app_context():
        return db.session.query(Service).count()


def service_body(**overrides) -> dict:
    body = {"name": "Crisisopvang", "domains": ["housing"], "municipalities": ["Arnhem", "Renkum"],
            "genders": ["female", "transgender"], "age_min": 18, "age_max": 65, "legal_positions": ["resident"],
            "accepts_active_addiction": False, "languages": ["nl", "en"],
            "required_documents": ["identiteitsbewijs"], "declared_capacity": 8, "expected_wait_days": 14,
            "description": "Opvang voor vrouwen die uitstappen."}
    body.update(overrides)
    return body
