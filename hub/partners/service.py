"""The rules of the organisation register."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import Select, select

from hub.audit.models import AuditAction
from hub.audit.service import record
from hub.errors import Conflict, Invalid
from hub.extensions import db
from hub.partners.models import Organisation
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
    """Organisations matching the filters, by name (paginate the result)."""
    query = select(Organisation).order_by(Organisation.name, Organisation.id)
    if kind is not None:
        query = query.where(Organisation.kind == kind)
    if domain is not None:
        kinds = [k for k, domains in DEFAULT_DOMAINS_BY_KIND.items() if domain in domains]
        query = query.where(Organisation.kind.in_(kinds))
    if municipality:
        query = query.where(db.func.lower(Organisation.municipality) == municipality.strip().lower())
    if name:
        escaped = name.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(db.func.lower(Organisation.name).like(f"%{escaped}%", escape="\\"))
    return query


def contact_users(organisation_id: int) -> list:
    """Who hears about changes for an organisation: its active staff (until the directory names a
    fixed contact person and a backup; then those two)."""
    from hub.auth.models import User

    return list(db.session.scalars(select(User).where(
        User.organisation_id == organisation_id, User.active.is_(True)).order_by(User.id)))
