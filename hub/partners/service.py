"""The rules of the organisation register: registering, filtering, whom to tell, measured waiting.

Writing a directory entry (services, contacts, confirmation) is in `hub.partners.entries`, the
search with its "why not" reasons in `hub.partners.search`.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import selectinload

from hub.audit.models import AuditAction
from hub.audit.service import record
from hub.clock import utcnow
from hub.errors import Conflict, Invalid
from hub.extensions import db
from hub.partners.models import Organisation, OrganisationContact, Service, ServiceArea, ServiceDomain, ServiceStatus
from hub.vocab import DEFAULT_DOMAINS_BY_KIND, LifeDomain, OrganisationKind


def create_organisation(*, name: str, kind: OrganisationKind | str, municipality: str, actor=None) -> Organisation:
    """Register an organisation; a partner kind serves its default life domains at once."""
    name, municipality = name.strip(), municipality.strip()
    try:
        kind = OrganisationKind(kind)
    except ValueError:
        raise Invalid(_("Unknown organisation kind %(kind)s.", kind=kind),
                      fields={"kind": [_("Choose one of: %(kinds)s.",
                                         kinds=", ".join(k.value for k in OrganisationKind))]}) from None
    problems = {}
    if not name:
        problems["name"] = [_("Give the organisation's name.")]
    if not municipality:
        problems["municipality"] = [_("Give the municipality.")]
    if problems:
        raise Invalid(_("Some fields are missing."), fields=problems)
    duplicate = db.session.scalar(select(Organisation.id).where(
        Organisation.name == name, Organisation.municipality == municipality))
    if duplicate is not None:
        message = _("%(name)s in %(municipality)s is already registered.", name=name, municipality=municipality)
        raise Conflict(message, fields={"name": [message]}, code="duplicate_organisation")
    organisation = Organisation(name=name, kind=kind, municipality=municipality)
    db.session.add(organisation)
    db.session.flush()
    record("partners:organisation:created", AuditAction.CREATE, object_type="organisation",
           object_id=organisation.id, user=actor)
    return organisation


def organisations_query(*, kind: OrganisationKind | None = None, domain: LifeDomain | None = None,
                        municipality: str | None = None, name: str | None = None) -> Select:
    """Organisations matching the filters, by name (paginate the result). `municipality` is where the
    organisation is seated; `domain` one it serves (see `serves_domain`)."""
    query = (select(Organisation).options(selectinload(Organisation.services))
             .order_by(Organisation.name, Organisation.id))
    if kind is not None:
        query = query.where(Organisation.kind == kind)
    if domain is not None:
        query = query.where(serves_domain(domain))
    if municipality:
        query = query.where(func.lower(Organisation.municipality) == municipality.strip().lower())
    if name:
        escaped = name.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(Organisation.name).like(f"%{escaped}%", escape="\\"))
    return query


def serves_domain(domain: LifeDomain) -> ColumnElement[bool]:
    """SQL: the organisation serves `domain`: one of its active services covers it or, while it has
    no services at all, its kind does by default (DESIGN.md)."""
    has_services = exists().where(Service.organisation_id == Organisation.id)
    active_service_covers = exists().where(
        Service.organisation_id == Organisation.id, Service.status == ServiceStatus.ACTIVE,
        ServiceDomain.service_id == Service.id, ServiceDomain.domain == domain)
    default_kinds = [k for k, domains in DEFAULT_DOMAINS_BY_KIND.items() if domain in domains]
    return or_(active_service_covers, and_(~has_services, Organisation.kind.in_(default_kinds)))


def serves_municipality(municipality: str) -> ColumnElement[bool]:
    """SQL: the organisation is seated in `municipality`, or one of its active services serves it."""
    key = municipality.strip().lower()
    return or_(func.lower(Organisation.municipality) == key, exists().where(
        Service.organisation_id == Organisation.id, Service.status == ServiceStatus.ACTIVE,
        ServiceArea.service_id == Service.id, func.lower(ServiceArea.municipality) == key))


def contact_users(organisation_id: int) -> list:
    """Who hears about changes for an organisation: the accounts of its fixed contact person and
    backup (matched on e-mail address, active staff of that organisation only), primary first;
    while the entry names neither, or neither has an active account, its active staff."""
    return contact_users_by_organisation({organisation_id}).get(organisation_id, [])


def contact_users_by_organisation(organisation_ids: set[int]) -> dict[int, list]:
    """`contact_users` for many organisations in two queries (the escalation sweep tells hundreds)."""
    from hub.auth.models import User

    if not organisation_ids:
        return {}
    emails: dict[int, list[str]] = {}
    for contact in sorted(db.session.scalars(select(OrganisationContact).where(
            OrganisationContact.organisation_id.in_(organisation_ids))), key=lambda c: c.position != "primary"):
        if contact.email.strip():
            emails.setdefault(contact.organisation_id, []).append(contact.email.strip().lower())
    staff: dict[int, list] = {}
    for user in db.session.scalars(select(User).where(User.organisation_id.in_(organisation_ids),
                                                      User.active.is_(True)).order_by(User.id)):
        staff.setdefault(user.organisation_id, []).append(user)
    found = {}
    for organisation_id in organisation_ids:
        people = staff.get(organisation_id, [])
        named = {user.email.lower(): user for user in people}
        chosen = list({named[e].id: named[e] for e in emails.get(organisation_id, []) if e in named}.values())
        found[organisation_id] = chosen or people
    return found


@dataclass(frozen=True)
class WaitingMeasurement:
    """What the hub measured at one organisation from its own service referrals."""

    median_wait_days: float | None  # median days from request to start, over the last 12 months
    waiting_now: int  # referrals requested and not yet started


def measured_waiting(organisation_ids: Iterable[int], *, now: datetime | None = None) -> dict[int, WaitingMeasurement]:
    """Measured waiting per organisation id, from the hub's own service referrals; an organisation
    without measurements is left out: over the 12 months before `now`, the median of
    `started_at - requested_at` (waiting ends at the first in_progress) per partner organisation,
    and how many open referrals have not started yet. Computed in SQL by hub/reports/waiting.py (the
    same numbers as the chain director's report). Everything that shows or sorts by measured waiting
    calls this one function.
    """
    from hub.reports.waiting import measured_per_organisation  # reports build on the directory

    now = now or utcnow()
    measured = measured_per_organisation(list(organisation_ids), now - timedelta(days=365), now)
    return {organisation_id: WaitingMeasurement(
                median_wait_days=None if m["median_days"] is None else round(float(m["median_days"]), 1),
                waiting_now=m["waiting_now"])
            for organisation_id, m in measured.items()}


def measurement_fields(measurement: WaitingMeasurement | None) -> dict:
    """The measured-waiting fields as the API and the pages show them."""
    if measurement is None:
        return {"measured_median_wait_days": None, "measured_waiting_now": None, "measurements": "none_yet"}
    return {"measured_median_wait_days": measurement.median_wait_days,
            "measured_waiting_now": measurement.waiting_now, "measurements": "measured"}


def entry_summary(organisation: Organisation, measurement: WaitingMeasurement | None, now: datetime) -> dict:
    """An organisation as the directory lists it."""
    return {"id": organisation.id, "name": organisation.name, "kind": organisation.kind,
            "municipality": organisation.municipality, "domains": list(organisation.domains),
            "assured_at": organisation.assured_at, "stale": organisation.is_stale(now),
            "has_services": bool(organisation.services), **measurement_fields(measurement)}


def summarise(organisations: list[Organisation], now: datetime) -> list[dict]:
    measured = measured_waiting([o.id for o in organisations], now=now)
    return [entry_summary(o, measured.get(o.id), now) for o in organisations]


def entry_detail(organisation: Organisation, now: datetime) -> dict:
    """An organisation's whole directory entry: services (also those not offered now) and contacts."""
    measurement = measured_waiting([organisation.id], now=now).get(organisation.id)
    return {**entry_summary(organisation, measurement, now), "services": list(organisation.services),
            "contacts": list(organisation.contacts), "stale_since": organisation.stale_since}
