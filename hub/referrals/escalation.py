"""Escalation of stalled referrals: norms in working days, a three-level ladder, and a sweep that
raises each escalation exactly once, however many sweeps run at the same time.

The sweep is set-based: per ladder level one `INSERT ... SELECT ... ON CONFLICT DO NOTHING
RETURNING`, the norm of each referral chosen in SQL by a CASE over the rules (most specific first).
The unique key (referral, stalled episode, level) makes a second or concurrent sweep insert nothing;
notifications go out only for the rows this sweep inserted, in the same transaction.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
from flask import current_app, g, has_request_context
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, case, exists, func, insert, literal, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from config.sla import Rule, default_rules, ladder
from hub.audit.models import AuditAction
from hub.audit.service import record
from hub.auth.models import User
from hub.db_types import UTCDateTime
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.extensions import db
from hub.notifications.models import Notification
from hub.partners.models import Organisation
from hub.partners.service import contact_users_by_organisation
from hub.referrals.models import Handoff
from hub.referrals.service_referral_models import Escalation, EscalationState, ServiceReferral, SlaOverride, Status
from hub.vocab import PARTNER_KINDS, LifeDomain, OrganisationKind, Role

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_DUTCH_HOLIDAYS = holidays.Netherlands()


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _DUTCH_HOLIDAYS


def subtract_working_days(moment: datetime, days: int) -> datetime:
    """The same Dutch clock time `days` working days before `moment` (weekends and holidays skipped)."""
    local = moment.astimezone(AMSTERDAM)
    day, counted = local.date(), 0
    while counted < days:
        day -= timedelta(days=1)
        counted += is_working_day(day)
    return datetime.combine(day, local.time(), tzinfo=AMSTERDAM).astimezone(UTC)


def current_rules() -> list[Rule]:
    """`rules()`, read once per request (a page of referrals asks for each)."""
    if not has_request_context():
        return rules()
    if "sla_rules" not in g:
        g.sla_rules = rules()
    return g.sla_rules


def rules() -> list[Rule]:
    """The norms in force: the chain directors' overrides and config/sla.toml, most specific first."""
    overrides = [Rule(statuses=(o.status.value,), working_days=o.working_days, source="override",
                      kinds=(o.kind,) if o.kind else (), domains=(o.domain.value,) if o.domain else (),
                      urgent=o.urgent, municipality=o.municipality.lower())
                 for o in db.session.scalars(select(SlaOverride))]
    return sorted([*overrides, *default_rules()], key=lambda r: r.specificity, reverse=True)


def rule_for(all_rules: list[Rule], status: str, kind: str, domain: str, urgent: bool,
             municipality: str) -> Rule | None:
    for rule in all_rules:
        if (status in rule.statuses and (not rule.kinds or kind in rule.kinds)
                and (not rule.domains or domain in rule.domains)
                and (rule.urgent is None or rule.urgent == urgent)
                and (rule.municipality is None or rule.municipality == municipality.lower())):
            return rule
    return None


def is_stalled(referral: ServiceReferral, now: datetime, all_rules: list[Rule] | None = None) -> bool:
    """The same test as the sweep, for one referral (the coach's 'late' marker)."""
    if referral.sla_status is None or referral.sla_clock_since is None:
        return False
    rule = rule_for(all_rules if all_rules is not None else current_rules(), referral.sla_status.value,
                    referral.organisation.kind.value, referral.domain.value, referral.urgent,
                    referral.organisation.municipality)
    return rule is not None and referral.sla_clock_since < subtract_working_days(now, rule.working_days)


# --- the sweep -----------------------------------------------------------------------------------

def _insert_ignoring_duplicates(select_statement):
    dialect = db.session.get_bind().dialect.name
    insert_for = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert_for(Escalation).from_select(
        ["service_referral_id", "episode", "level", "status", "raised_at", "state"], select_statement)
    statement = statement.on_conflict_do_nothing(index_elements=["service_referral_id", "episode", "level"])
    return db.session.scalars(statement.returning(Escalation.id)).all()


_DONE = Escalation.__table__.alias("escalations_done")  # made once: an ORM alias per statement costs ms


def _not_raised(referral_id, episode, level):
    """Not escalated yet at this level in this episode: a rerun then claims and inserts nothing (the
    unique key still settles a race between sweeps)."""
    return ~exists().where(_DONE.c.service_referral_id == referral_id, _DONE.c.episode == episode,
                           _DONE.c.level == level)


def _claim(statement, *of):
    """PostgreSQL: lock the rows this sweep works on, skipping those another sweep holds.
    SQLite: every transaction already began with BEGIN IMMEDIATE (hub/__init__.py)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return statement.with_for_update(skip_locked=True, of=of)
    return statement


def _raise_level_one(now: datetime, all_rules: list[Rule]) -> list[int]:
    """The stalled referrals: those whose clock started before the cutoff of the first (most specific)
    rule that matches them, chosen per row by a CASE. One INSERT ... SELECT per rule, each reading
    only the rows that rule could find stalled, through the service_referrals index on (status,
    partner, clock) or (status, clock): its statuses, its partners (the organisations of its kinds and
    municipality), domains, urgency and cutoff. So the cost grows with the stalled referrals, not with
    all open ones. A referral another rule's statement already raised conflicts and is skipped."""
    sr, org = ServiceReferral, Organisation
    organisations = db.session.execute(select(org.id, org.kind, func.lower(org.municipality))).all()
    whens, narrowed = [], []
    for rule in all_rules:
        cutoff = literal(subtract_working_days(now, rule.working_days), UTCDateTime)
        condition, narrowing = [sr.sla_status.in_(rule.statuses)], [sr.sla_status.in_(rule.statuses)]
        if rule.kinds:
            condition.append(org.kind.in_(rule.kinds))
        if rule.domains:
            condition.append(sr.domain.in_(rule.domains))
            narrowing.append(sr.domain.in_(rule.domains))
        if rule.urgent is not None:
            condition.append(sr.urgent.is_(rule.urgent))
            narrowing.append(sr.urgent.is_(rule.urgent))
        if rule.municipality is not None:
            condition.append(func.lower(org.municipality) == rule.municipality)
        if rule.kinds or rule.municipality is not None:
            partners = [org_id for org_id, kind, municipality in organisations
                        if (not rule.kinds or getattr(kind, "value", kind) in rule.kinds)
                        and (rule.municipality is None or municipality == rule.municipality)]
            if not partners:
                continue  # no organisation it could apply to: it matches no referral
            narrowing.append(sr.organisation_id.in_(partners))
        whens.append((and_(*condition), cutoff))
        narrowed.append([*narrowing, sr.sla_clock_since < cutoff])
    raised = []
    for narrowing in narrowed:
        stalled = (select(sr.id, sr.sla_episode, literal(1), sr.sla_status, literal(now, UTCDateTime),
                          literal(EscalationState.OPEN.value))
                   .join(org, org.id == sr.organisation_id)
                   .where(*narrowing, sr.sla_clock_since < case(*whens, else_=None),
                          _not_raised(sr.id, sr.sla_episode, 1)))
        raised += _insert_ignoring_duplicates(_claim(stalled, sr))
    return raised


def _climb(now: datetime, level: int, after_working_days: int) -> list[int]:
    previous = aliased(Escalation)
    due = (select(previous.service_referral_id, previous.episode, literal(level), previous.status,
                  literal(now, UTCDateTime), literal(EscalationState.OPEN.value))
           .where(previous.level == level - 1, previous.state == EscalationState.OPEN,
                  previous.raised_at < literal(subtract_working_days(now, after_working_days), UTCDateTime),
                  _not_raised(previous.service_referral_id, previous.episode, level)))
    return _insert_ignoring_duplicates(_claim(due, previous))


def escalate_overdue(now: datetime) -> dict[str, int]:
    """One sweep as of `now`: raise what is due at each level, tell the right people, commit once."""
    steps = ladder()
    raised = {1: _raise_level_one(now, rules()),
              2: _climb(now, 2, steps.level_2_after_working_days),
              3: _climb(now, 3, steps.level_3_after_working_days)}
    _notify_new(now, [escalation_id for ids in raised.values() for escalation_id in ids])
    db.session.commit()
    return {f"level_{level}": len(ids) for level, ids in raised.items()}


# --- who hears of an escalation ----------------------------------------------------------------------

NOTIFY_CHUNK = 5000  # escalations told per round: bounded lists of ids (SQLite allows 32,766 variables)


def _notify_new(now: datetime, escalation_ids: list[int]) -> None:
    """One notification per recipient and new escalation, written in bulk; no client data in it."""
    for start in range(0, len(escalation_ids), NOTIFY_CHUNK):
        _notify_chunk(now, escalation_ids[start:start + NOTIFY_CHUNK])


def _notify_chunk(now: datetime, escalation_ids: list[int]) -> None:
    rows = db.session.execute(
        select(Escalation.id, Escalation.level, ServiceReferral.id, ServiceReferral.client_id,
               ServiceReferral.organisation_id, Organisation.municipality)
        .join(ServiceReferral, ServiceReferral.id == Escalation.service_referral_id)
        .join(Organisation, Organisation.id == ServiceReferral.organisation_id)
        .where(Escalation.id.in_(escalation_ids))).all()
    partner_ids = {r.organisation_id for r in rows}
    contacts = {org_id: [u.id for u in users] for org_id, users in contact_users_by_organisation(partner_ids).items()}
    partner_staff = _users_by(User.organisation_id, partner_ids, Role.PARTNER)
    coaches = _coaches_by_client({r.client_id for r in rows})
    directors = _directors_by_municipality({r.municipality.lower() for r in rows if r[1] == 3})
    planned = []
    for _id, level, referral_id, client_id, partner_id, municipality in rows:
        recipients = set(coaches.get(client_id, ()))
        if level == 1:
            recipients |= set(contacts.get(partner_id, ()))
        if level == 2:  # the organisation's lead: until the directory names one, all its partner staff
            recipients |= set(partner_staff.get(partner_id, ()))
        if level == 3:
            recipients |= set(directors.get(municipality.lower(), ()))
        planned += [(user_id, referral_id, level) for user_id in sorted(recipients)]
    locales = dict(db.session.execute(select(User.id, User.locale).where(User.id.in_({p[0] for p in planned}))).all())
    default_locale = current_app.config["HUB"].default_locale
    wording = {}  # per language, translated once: (subject, body with %(id)s and %(level)s)
    for locale in {locales.get(user_id) or default_locale for user_id, _ref, _level in planned}:
        with force_locale(locale):  # in the recipient's own language
            wording[locale] = (_("A referral is stalled"), _(
                "Referral %(id)s has waited longer than agreed (escalation level %(level)s). Open it in the hub."))
    notifications = []
    for user_id, referral_id, level in planned:
        subject, body = wording[locales.get(user_id) or default_locale]
        notifications.append((user_id, subject, body % {"id": referral_id, "level": level}))
    _write_notifications(now, notifications)


def _write_notifications(now: datetime, rows: list[tuple[int, str, str]]) -> None:
    """(user, subject, body) rows, in bulk: a sweep after an outage may raise thousands at once.
    PostgreSQL: one INSERT over arrays (an executemany would send a statement per row); SQLite, in
    process: an executemany. The body is sealed by its own column type, as the ORM would."""
    if not rows:
        return
    table = Notification.__table__
    bind = db.session.get_bind()
    if bind.dialect.name != "postgresql":
        db.session.execute(insert(table), [{"user_id": u, "subject": s, "body": b, "created_at": now,
                                             "email_status": "pending", "email_attempts": 0} for u, s, b in rows])
        return
    seal = table.c.body.type.process_bind_param
    db.session.execute(text(
        "INSERT INTO notifications (user_id, subject, body, created_at, email_status, email_attempts) "
        "SELECT u, s, b, :now, 'pending', 0 FROM unnest(CAST(:users AS integer[]), CAST(:subjects AS text[]), "
        "CAST(:bodies AS text[])) AS t(u, s, b)"),
        {"now": now, "users": [u for u, _s, _b in rows], "subjects": [s for _u, s, _b in rows],
         "bodies": [seal(b, bind.dialect) for _u, _s, b in rows]})


def _users_by(column, values: set, role: Role) -> dict:
    found: dict = {}
    for key, user_id in db.session.execute(select(column, User.id).where(
            column.in_(values), User.role == role, User.active.is_(True))):
        found.setdefault(key, []).append(user_id)
    return found


def _coaches_by_client(client_ids: set[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for client_id, coach_id, backup_id in db.session.execute(select(
            Handoff.client_id, Handoff.coach_id, Handoff.backup_coach_id).where(
            Handoff.client_id.in_(client_ids), Handoff.coach_id.is_not(None))):
        found.setdefault(client_id, []).extend(i for i in (coach_id, backup_id) if i)
    return found


def _directors_by_municipality(municipalities: set[str]) -> dict[str, list[int]]:
    if not municipalities:
        return {}
    found: dict[str, list[int]] = {}
    for municipality, user_id in db.session.execute(
            select(func.lower(Organisation.municipality), User.id).join(User, User.organisation_id == Organisation.id)
            .where(func.lower(Organisation.municipality).in_(municipalities), User.role == Role.DIRECTOR,
                   User.active.is_(True))):
        found.setdefault(municipality, []).append(user_id)
    return found


# --- the chain director's norms for its own municipality ---------------------------------------------

# The statuses whose time a norm can limit: the open ones the escalation clock runs in.
CLOCKED_STATUSES = (Status.REQUESTED, Status.RECEIVED, Status.WAITLISTED, Status.INTAKE_SCHEDULED, Status.IN_PROGRESS)
MAX_WORKING_DAYS = 260  # a year of working days: a longer norm is no norm


def overrides_for(municipality: str) -> list[SlaOverride]:
    """The overrides for partners in `municipality`, by status, then most specific first."""
    found = db.session.scalars(select(SlaOverride).where(
        func.lower(SlaOverride.municipality) == municipality.strip().lower())).all()
    order = {status: index for index, status in enumerate(CLOCKED_STATUSES)}
    return sorted(found, key=lambda o: (order.get(o.status, len(order)), o.kind is None, o.domain is None,
                                        o.urgent is None, o.working_days, o.id))


def _describe(override: SlaOverride) -> str:
    urgent = "*" if override.urgent is None else str(override.urgent).lower()
    return (f"municipality={override.municipality} status={override.status.value} kind={override.kind or '*'} "
            f"domain={override.domain.value if override.domain else '*'} urgent={urgent} "
            f"working_days={override.working_days}")


def _director_municipality(actor: User) -> str:
    if actor.role != Role.DIRECTOR:
        raise Forbidden(_("Only a chain director sets the norms of a municipality."))
    return actor.organisation.municipality


def set_override(actor: User, status: Status, working_days: int, now: datetime,
                 kind: OrganisationKind | None = None, domain: LifeDomain | None = None,
                 urgent: bool | None = None) -> SlaOverride:
    """A chain director's norm for partners in its own municipality, overriding config/sla.toml; audited."""
    municipality = _director_municipality(actor)
    problems = {}
    if status not in CLOCKED_STATUSES:
        problems["status"] = [_("A norm applies to an open status in which a client waits.")]
    if kind is not None and kind not in PARTNER_KINDS:
        problems["kind"] = [_("Choose a kind of chain partner.")]
    if not 1 <= working_days <= MAX_WORKING_DAYS:
        problems["working_days"] = [_("Enter a number from %(low)s to %(high)s.", low=1, high=MAX_WORKING_DAYS)]
    if problems:
        raise Invalid(_("The norm could not be saved."), fields=problems)
    kind_value = kind.value if kind is not None else None
    same = [o for o in overrides_for(municipality)
            if (o.status, o.kind, o.domain, o.urgent) == (status, kind_value, domain, urgent)]
    if same:
        raise Conflict(_("%(municipality)s already has a norm for exactly this case (%(days)s working days). "
                         "Remove that one first.", municipality=municipality, days=same[0].working_days),
                       code="duplicate_override", fields={"status": [_("A norm for this case exists.")]})
    override = SlaOverride(municipality=municipality, status=status, kind=kind_value, domain=domain, urgent=urgent,
                           working_days=working_days, set_by_id=actor.id, set_at=now)
    db.session.add(override)
    db.session.flush()
    record("referrals:sla:override_set", AuditAction.CREATE, object_type="sla_override", object_id=override.id,
           user=actor, detail=_describe(override))
    return override


def remove_override(actor: User, override_id: int, now: datetime) -> None:
    """Remove one of the chain director's own municipality's norms (the default applies again); audited."""
    municipality = _director_municipality(actor)
    override = db.session.get(SlaOverride, override_id)
    if override is None or override.municipality.strip().lower() != municipality.strip().lower():
        raise NotFound(_("There is no such norm for your municipality."))
    record("referrals:sla:override_removed", AuditAction.DELETE, object_type="sla_override", object_id=override.id,
           user=actor, detail=f"{_describe(override)} removed_at={now.isoformat()}")
    db.session.delete(override)
    db.session.flush()
