"""Setting a programme's target: participants expected in one calendar year."""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from hub.audit.models import AuditAction, AuditResult
from hub.audit.service import record
from hub.auth.models import User
from hub.errors import Forbidden, Invalid
from hub.extensions import db
from hub.partners.models import Organisation
from hub.reports.models import ProgrammeTarget
from hub.vocab import OrganisationKind, Role


def set_target(actor: User, organisation_id: int, year: int, expected: int, now: datetime) -> ProgrammeTarget:
    """Set (or replace) how many participants the programme expects in `year`: a coach for its own
    programme, an administrator for any."""
    if not (actor.role == Role.ADMIN or (actor.role == Role.COACH and actor.organisation_id == organisation_id)):
        record("reports:target:refused", AuditAction.UPDATE, AuditResult.REFUSED, object_type="organisation",
               object_id=organisation_id, user=actor)
        raise Forbidden(_("Only a coach of this programme or an administrator may set its target."))
    programme = db.session.get(Organisation, organisation_id)
    if programme is None or programme.kind != OrganisationKind.EXIT_PROGRAMME:
        raise Invalid(_("Targets are set for exit programmes."),
                      fields={"organisation_id": [_("This is not an exit programme.")]})
    target = db.session.scalar(select(ProgrammeTarget).where(
        ProgrammeTarget.organisation_id == organisation_id, ProgrammeTarget.year == year).with_for_update())
    action = AuditAction.UPDATE if target else AuditAction.CREATE
    if target is None:
        target = ProgrammeTarget(organisation_id=organisation_id, year=year)
        db.session.add(target)
    previous = target.expected
    target.expected, target.set_by_id, target.set_at = expected, actor.id, now
    db.session.flush()
    record("reports:target:set", action, object_type="programme_target", object_id=target.id, user=actor,
           detail=f"programme {organisation_id}, {year}: {previous} -> {expected}")
    return target
