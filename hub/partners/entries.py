"""Keeping a directory entry current: its services, its fixed contacts, and confirming it.

Who may: a partner user for its own organisation's entry, an admin for any (admins set up entries
for organisations that have no users yet). Coaches, referrers and directors read only.
Every function validates everything before it changes anything, so a refusal leaves nothing half-saved.
"""
from __future__ import annotations

import re
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from hub.audit.models import AuditAction, AuditResult
from hub.audit.service import record
from hub.auth.permissions import Permission, can
from hub.clock import local_today
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.extensions import db
from hub.partners.models import (
    ContactPosition,
    Organisation,
    OrganisationContact,
    Service,
    ServiceArea,
    ServiceDomain,
    ServiceStatus,
)
from hub.vocab import Gender, LegalStatus, LifeDomain, Role

LANGUAGE = re.compile(r"^[a-z]{2,3}\Z")  # ISO 639-1 (or -3) codes: nl, en, ro, bg, ...
PHONE = re.compile(r"^\+?[0-9][0-9 ()\-.]{5,38}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Control characters are refused in text (PostgreSQL cannot store NUL; none belongs in a directory).
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_BUT_NEWLINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_AGE, MAX_WAIT_DAYS, MAX_CAPACITY = 120, 3650, 100_000
MAX_ID = 2**31 - 1
SERVICE_FIELDS = ("name", "description", "status", "domains", "municipalities", "genders", "age_min", "age_max",
                  "legal_positions", "accepts_active_addiction", "languages", "required_documents",
                  "declared_capacity", "expected_wait_days")
CONTACT_FIELDS = ("name", "role", "phone", "email", "how_to_reach")


# --- who may edit ----------------------------------------------------------------------------------

def find(model, object_id: int):
    """The row with this id, or None; also None for an id no integer column holds (PostgreSQL would
    refuse the query rather than find nothing)."""
    return db.session.get(model, object_id) if 0 < object_id <= MAX_ID else None


def may_edit_entry(user, organisation: Organisation) -> bool:
    """A partner user edits its own organisation's entry; an admin any entry; nobody else."""
    if not can(user, Permission.DIRECTORY_EDIT):
        return False
    return user.role is Role.ADMIN or user.organisation_id == organisation.id


def organisation_for_edit(user, organisation_id: int) -> Organisation:
    """The organisation whose entry `user` wants to edit, or 404 / 403 (the refusal is audited).
    Every organisation is visible in the directory, so a 403 tells nothing new."""
    organisation = find(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(_("This organisation does not exist."))
    if not may_edit_entry(user, organisation):
        record(f"auth:{Permission.DIRECTORY_EDIT}:refused", AuditAction.UPDATE, AuditResult.REFUSED,
               object_type="organisation", object_id=organisation.id, detail="not this user's organisation")
        raise Forbidden(_("Only %(name)s itself keeps its directory entry current.", name=organisation.name))
    return organisation


def service_for_edit(user, service_id: int) -> Service:
    service = find(Service, service_id)
    if service is None:
        raise NotFound(_("This service does not exist."))
    organisation_for_edit(user, service.organisation_id)
    return service


# --- services --------------------------------------------------------------------------------------

def create_service(actor, organisation: Organisation, data: dict, now: datetime) -> Service:
    """Add a service to an organisation's entry; it serves the organisation's municipality unless
    the data names the municipalities it serves."""
    values = {field: data.get(field) for field in SERVICE_FIELDS}
    if values["municipalities"] is None:
        values["municipalities"] = [organisation.municipality]
    values = _checked_service(values, organisation.id, None)
    service = Service(organisation=organisation, created_at=now)
    _apply(service, values, now)
    db.session.add(service)
    db.session.flush()
    record("partners:service:created", AuditAction.CREATE, object_type="service", object_id=service.id,
           user=actor, detail=f"organisation {organisation.id}")
    return service


def update_service(actor, service: Service, changes: dict, now: datetime) -> Service:
    """Change some of a service's fields (the rest stay as they are)."""
    values = {field: _current(service, field) for field in SERVICE_FIELDS}
    values.update({field: changes[field] for field in SERVICE_FIELDS if field in changes})
    values = _checked_service(values, service.organisation_id, service.id)
    _apply(service, values, now)
    record("partners:service:updated", AuditAction.UPDATE, object_type="service", object_id=service.id,
           user=actor, detail="changed: " + ", ".join(sorted(f for f in changes if f in SERVICE_FIELDS)))
    return service


def _current(service: Service, field: str):
    if field == "domains":
        return service.domains
    if field == "municipalities":
        return service.municipalities
    return getattr(service, field)


def _apply(service: Service, values: dict, now: datetime) -> None:
    for field in SERVICE_FIELDS:
        if field == "domains":
            wanted = set(values["domains"])
            service.domain_rows = ([row for row in service.domain_rows if row.domain in wanted]
                                   + [ServiceDomain(domain=d) for d in values["domains"]
                                      if d not in {row.domain for row in service.domain_rows}])
        elif field == "municipalities":
            keep = {row.municipality: row for row in service.area_rows}
            service.area_rows = [keep.get(m) or ServiceArea(municipality=m) for m in values["municipalities"]]
        else:
            setattr(service, field, values[field])
    service.updated_at, service.assured_date = now, local_today(now)


def _checked_service(values: dict, organisation_id: int, service_id: int | None) -> dict:
    """The values, cleaned; or Invalid naming every field that is wrong."""
    problems: dict[str, list[str]] = {}
    out = dict(values)

    out["name"] = (values.get("name") or "").strip()
    if not out["name"]:
        problems["name"] = [_("Give the service's name.")]
    elif len(out["name"]) > 200:
        problems["name"] = [_("At most %(n)d characters.", n=200)]
    out["description"] = (values.get("description") or "").strip()
    if len(out["description"]) > 2000:
        problems["description"] = [_("At most %(n)d characters.", n=2000)]
    try:
        out["status"] = ServiceStatus(values.get("status") or ServiceStatus.ACTIVE)
    except ValueError:
        problems["status"] = [_("Choose one of: %(values)s.", values=", ".join(ServiceStatus))]

    out["domains"] = _enum_list(values.get("domains"), LifeDomain, "domains", problems)
    if "domains" not in problems and not out["domains"]:
        problems["domains"] = [_("Choose at least one life domain.")]
    out["genders"] = _enum_list(values.get("genders"), Gender, "genders", problems)
    out["legal_positions"] = _enum_list(values.get("legal_positions"), LegalStatus, "legal_positions", problems)

    municipalities, seen = [], set()
    for raw in values.get("municipalities") or []:
        name = (raw or "").strip()
        if not name or len(name) > 100:
            problems["municipalities"] = [_("Every municipality needs a name (at most 100 characters).")]
            break
        if name.lower() not in seen:
            seen.add(name.lower())
            municipalities.append(name)
    if "municipalities" not in problems and not municipalities:
        problems["municipalities"] = [_("Name at least one municipality the service serves.")]
    out["municipalities"] = municipalities

    languages = [(code or "").strip().lower() for code in values.get("languages") or []]
    if any(not LANGUAGE.match(code) for code in languages):
        problems["languages"] = [_("Use language codes such as nl, en, ro, bg.")]
    out["languages"] = list(dict.fromkeys(languages))
    documents = [(doc or "").strip() for doc in values.get("required_documents") or []]
    if any(not doc or len(doc) > 200 for doc in documents) or len(documents) > 20:
        problems["required_documents"] = [_("At most 20 documents, each named in at most 200 characters.")]
    out["required_documents"] = documents

    for field, upper in (("age_min", MAX_AGE), ("age_max", MAX_AGE), ("declared_capacity", MAX_CAPACITY),
                         ("expected_wait_days", MAX_WAIT_DAYS)):
        value = values.get(field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= upper):
            problems[field] = [_("A whole number from 0 to %(max)d.", max=upper)]
    if ("age_min" not in problems and "age_max" not in problems and values.get("age_min") is not None
            and values.get("age_max") is not None and values["age_min"] > values["age_max"]):
        problems["age_max"] = [_("The upper age (%(max)d) is below the lower age (%(min)d).",
                                 max=values["age_max"], min=values["age_min"])]
    addiction = values.get("accepts_active_addiction")
    if addiction is not None and not isinstance(addiction, bool):
        problems["accepts_active_addiction"] = [_("Yes, no, or not stated.")]

    for name in ("name", "municipalities", "languages", "required_documents"):
        texts = out[name] if isinstance(out[name], list) else [out[name]]
        if name not in problems and any(CONTROL.search(text) for text in texts):
            problems[name] = [_("Remove the control characters.")]
    if "description" not in problems and CONTROL_BUT_NEWLINES.search(out["description"]):
        problems["description"] = [_("Remove the control characters.")]
    if problems:
        raise Invalid(_("Some fields are not valid: %(names)s.", names=", ".join(sorted(problems))),
                      fields=problems)
    duplicate = db.session.scalar(select(Service.id).where(
        Service.organisation_id == organisation_id, Service.name == out["name"],
        Service.id != (service_id or 0)))
    if duplicate is not None:
        message = _("This organisation already has a service called %(name)s.", name=out["name"])
        raise Conflict(message, fields={"name": [message]}, code="duplicate_service")
    return out


def _enum_list(raw, enum_class, field: str, problems: dict) -> list:
    try:
        return list(dict.fromkeys(enum_class(value) for value in raw or []))
    except ValueError:
        problems[field] = [_("Choose from: %(values)s.", values=", ".join(enum_class))]
        return []


# --- contacts and confirmation ---------------------------------------------------------------------

def set_contacts(actor, organisation: Organisation, primary: dict, backup: dict | None,
                 now: datetime) -> list[OrganisationContact]:
    """Name the fixed contact person and (optionally) the backup; replaces what was there."""
    problems: dict = {}
    wanted = {ContactPosition.PRIMARY: _checked_contact(primary, "primary", problems)}
    if backup:
        wanted[ContactPosition.BACKUP] = _checked_contact(backup, "backup", problems)
    if problems:
        raise Invalid(_("Some fields are not valid: %(names)s.", names=", ".join(sorted(problems))),
                      fields=problems)
    existing = {c.position: c for c in organisation.contacts}
    for position in ContactPosition:
        contact = existing.get(position)
        if position not in wanted:
            if contact is not None:
                organisation.contacts.remove(contact)
                db.session.delete(contact)
            continue
        if contact is None:
            contact = OrganisationContact(organisation_id=organisation.id, position=position)
            organisation.contacts.append(contact)
        for field, value in wanted[position].items():
            setattr(contact, field, value)
        contact.updated_at = now
    db.session.flush()
    record("partners:contacts:updated", AuditAction.UPDATE, object_type="organisation", object_id=organisation.id,
           user=actor, detail="primary and backup" if backup else "primary only")
    return sorted(organisation.contacts, key=lambda c: c.position is not ContactPosition.PRIMARY)


def _checked_contact(data: dict, prefix: str, problems: dict) -> dict:
    values = {field: (data.get(field) or "").strip() for field in CONTACT_FIELDS}
    limits = {"name": 200, "role": 200, "phone": 40, "email": 254, "how_to_reach": 500}
    for field, limit in limits.items():
        if len(values[field]) > limit:
            problems[f"{prefix}.{field}"] = [_("At most %(n)d characters.", n=limit)]
    for field, value in values.items():
        if CONTROL.search(value):
            problems[f"{prefix}.{field}"] = [_("Remove the control characters.")]
    if not values["name"]:
        problems[f"{prefix}.name"] = [_("Give the contact person's name.")]
    if values["phone"] and not PHONE.match(values["phone"]):
        problems[f"{prefix}.phone"] = [_("A phone number such as 026 123 45 67 or +31 26 123 45 67.")]
    if values["email"] and not EMAIL.match(values["email"]):
        problems[f"{prefix}.email"] = [_("An e-mail address such as naam@organisatie.nl.")]
    if not values["phone"] and not values["email"]:
        problems[f"{prefix}.phone"] = [_("Give a phone number or an e-mail address: a coach must be able "
                                         "to reach this person.")]
    values["email"] = values["email"].lower()
    return values


def confirm_entry(actor, organisation: Organisation, now: datetime) -> Organisation:
    """Confirm the entry is current: it is no longer stale, and every service counts as checked today."""
    organisation.assured_at, organisation.stale_since = now, None
    for service in organisation.services:
        service.assured_date = local_today(now)
    record("partners:entry:confirmed", AuditAction.UPDATE, object_type="organisation", object_id=organisation.id,
           user=actor)
    return organisation


def own_entry_id(user) -> int | None:
    """The organisation whose entry the user keeps (partner users), else None."""
    if user.role is Role.PARTNER and can(user, Permission.DIRECTORY_EDIT):
        return user.organisation_id
    return None

