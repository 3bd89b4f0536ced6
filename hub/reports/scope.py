"""Who sees which numbers. A chain director: the exit programmes and the chain partners seated in
its own municipality (compared case-insensitively); a coach: its own programme, and the referrals
its programme sent, wherever they went. Every other role has no report permission at all.

Directors get small cells suppressed in breakdowns (`suppresses_small_cells`); coaches see their own
programme's exact numbers, as they already see its clients.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, false, func, select

from hub.audit.models import AuditAction, AuditResult
from hub.audit.service import record
from hub.errors import NotFound
from hub.partners.models import Organisation
from hub.referrals.service_referral_models import ServiceReferral
from hub.vocab import PARTNER_KINDS, OrganisationKind, Role


def _same_municipality(user) -> ColumnElement[bool]:
    return func.lower(Organisation.municipality) == user.organisation.municipality.strip().lower()


def programmes(user) -> Select:
    """SQL: the ids of the exit programmes whose registration `user` may see."""
    query = select(Organisation.id).where(Organisation.kind == OrganisationKind.EXIT_PROGRAMME)
    if user.role == Role.DIRECTOR:
        return query.where(_same_municipality(user))
    if user.role == Role.COACH:
        return query.where(Organisation.id == user.organisation_id)
    return query.where(false())


def referrals(user, of=ServiceReferral) -> ColumnElement[bool]:
    """SQL: a service referral counts in `user`'s waiting-time and bottleneck reports. `of`: the
    service referrals, or a table of counts over them with the same organisation_id and programme_id."""
    if user.role == Role.DIRECTOR:
        partners = select(Organisation.id).where(Organisation.kind.in_(PARTNER_KINDS), _same_municipality(user))
        return of.organisation_id.in_(partners.scalar_subquery())
    if user.role == Role.COACH:
        return of.programme_id == user.organisation_id
    return false()


def referrals_of(user, session):
    """`referrals` as a function of the table it filters, with a chain director's partners looked up
    once: a list of ids, which PostgreSQL reads from the day counts' key in key order (so the grouping
    streams), where the subquery made it loop over the partners and hash."""
    if user.role == Role.DIRECTOR:
        partners = list(session.scalars(select(Organisation.id).where(Organisation.kind.in_(PARTNER_KINDS),
                                                                      _same_municipality(user))))
        return lambda of: of.organisation_id.in_(partners)
    return lambda of: referrals(user, of)


def suppresses_small_cells(user) -> bool:
    return user.role == Role.DIRECTOR


def visible_programme_ids(user, organisation_id: int | None, session, report: str = "registration") -> list[int]:
    """The programmes a registration (or phase funnel) report adds up: the one asked for, or all the
    user may see. A programme the user may not see is answered as if it did not exist (audited)."""
    query = programmes(user)
    if organisation_id is not None:
        found = session.scalars(query.where(Organisation.id == organisation_id)).all()
        if not found:
            record(f"reports:{report}:refused", AuditAction.READ, AuditResult.REFUSED,
                   object_type="organisation", object_id=organisation_id, user=user)
            raise NotFound(_("There is no such exit programme, or its numbers are not yours to see."))
        return list(found)
    return list(session.scalars(query.order_by(Organisation.id)))


def programme_choices(user, session) -> list[tuple[int, str]]:
    """(id, name) of the programmes the user may choose in a registration report, by name."""
    rows = session.execute(select(Organisation.id, Organisation.name)
                           .where(Organisation.id.in_(programmes(user).scalar_subquery()))
                           .order_by(Organisation.name, Organisation.id))
    return [(row.id, row.name) for row in rows]
