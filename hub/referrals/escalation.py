"""Escalation of stalled referrals: norms in working days, a three-level ladder, and a sweep that
raises each escalation exactly once, however many sweeps run at the same time.

The sweep is set-based: per ladder level one `INSERT ... SELECT ... ON CONFLICT DO NOTHING
RETURNING` (on SQLite, level 1 one per rule), the norm of each referral chosen in SQL by a CASE
over the rules (most specific first).
The unique key (referral, stalled episode, level) makes a second or concurrent sweep insert nothing;
notifications go out only for the rows this sweep inserted, in the same transaction.

Its cost follows the stalled referrals, not all referrals nor the escalations of earlier years: each
level reads an index on (status, clock) and probes the unique key once per candidate
(bench/run.py: 1,000,000 referrals, 10,000 stalled).
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import holidays
from flask import current_app, g, has_request_context
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import (
    Integer,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from config.sla import Rule, default_rules, ladder
from hub.audit.models import AuditAction
from hub.audit.service import record
from hub.auth.models import User
from hub.clock import AMSTERDAM
from hub.db_types import UTCDateTime
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.extensions import db
from hub.notifications.service import write_notifications
from hub.partners.models import Organisation
from hub.partners.service import contact_users_by_organisation
from hub.referrals.models import Handoff, Trajectory
from hub.referrals.service_referral_models import (
    Escalation,
    EscalationState,
    ServiceReferral,
    SlaClock,
    SlaOverride,
    Status,
)
from hub.vocab import PARTNER_KINDS, LifeDomain, OrganisationKind, Role

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
    clock = referral.clock
    if clock is None or clock.status is None:
        return False
    rule = rule_for(all_rules if all_rules is not None else current_rules(), clock.status.value,
                    referral.organisation.kind.value, referral.domain.value, referral.urgent,
                    referral.organisation.municipality)
    return rule is not None and clock.since < subtract_working_days(now, rule.working_days)


# --- the sweep -----------------------------------------------------------------------------------

RAISED_COLUMNS = ["service_referral_id", "client_id", "organisation_id", "episode", "level", "status", "raised_at",
                  "state"]


def _insert_ignoring_duplicates(select_statement):
    dialect = db.session.get_bind().dialect.name
    insert_for = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = Escalation.__table__  # the table, not the mapped class: no ORM result for 10,000 ids (~10 ms)
    statement = insert_for(table).from_select(RAISED_COLUMNS, select_statement)
    statement = statement.on_conflict_do_nothing(index_elements=["service_referral_id", "episode", "level"])
    return db.session.execute(statement.returning(table.c.id)).scalars().all()


_DONE = Escalation.__table__.alias("escalations_done")  # made once: an ORM alias per statement costs ms


def _not_raised(referral_id, episode, level):
    """Not escalated yet at this level in this episode: a rerun then claims and inserts nothing (the
    unique key still settles a race between sweeps).

    On PostgreSQL this must be a probe of uq_escalations_once per candidate, whatever the statistics
    of `escalations` say. As NOT EXISTS, which it plans as an anti-join from those statistics, it
    believed the table empty (after a quiet spell, or in a new database) and scanned the whole table
    or a whole index once per stalled referral; within one INSERT that table grows with every row
    inserted: quadratic (10,000 stalled referrals: 0.6 s, bench/run.py). A correlated subquery it
    runs per candidate with the candidate's values as parameters; the level compared as `level + 0`
    leaves uq_escalations_once (referral, episode, level) the only index it can probe, and the
    sweep's statements run without sequential scans (`_probing_the_unique_key`).
    tests/test_escalation_bulk.py holds the plans to this. SQLite plans it as that probe by itself."""
    return (select(literal(1)).where(_DONE.c.service_referral_id == referral_id, _DONE.c.episode == episode,
                                     _DONE.c.level + literal_column("0") == level)
            .limit(1).scalar_subquery().is_(None))


@contextmanager
def _probing_the_unique_key():
    """PostgreSQL: no sequential scans in the sweep's statements, for this transaction only (SET
    LOCAL), and as before afterwards: the probe of `_not_raised` must not scan the table it inserts
    into, however small the planner believes it."""
    if db.session.get_bind().dialect.name != "postgresql":
        yield
        return
    before = db.session.execute(text("SELECT current_setting('enable_seqscan')")).scalar_one()
    db.session.execute(text("SELECT set_config('enable_seqscan', 'off', true)"))
    try:
        yield
    finally:
        db.session.execute(text("SELECT set_config('enable_seqscan', :before, true)"), {"before": before})


def _claim(statement, *of):
    """PostgreSQL: lock the rows this sweep works on, skipping those another sweep holds.
    SQLite: the sweep's first INSERT takes the database's one write lock (hub/connections.py), held
    until it commits."""
    if db.session.get_bind().dialect.name == "postgresql":
        return statement.with_for_update(skip_locked=True, of=of)
    return statement


def _partners_of(rule: Rule, organisations: list) -> list[int] | None:
    """The organisations a rule for some partner kinds or one municipality applies to (None: all)."""
    if not rule.kinds and rule.municipality is None:
        return None
    return [org_id for org_id, kind, municipality in organisations
            if (not rule.kinds or getattr(kind, "value", kind) in rule.kinds)
            and (rule.municipality is None or municipality == rule.municipality)]


def _raise_level_one(now: datetime, all_rules: list[Rule]) -> list[int]:
    """The stalled referrals: those whose clock started before the cutoff of the first (most specific)
    rule that matches them, chosen per row by a CASE. The statement reads only the clocks some rule
    could find stalled: per rule, a range of the sla_clocks index on (status, partner, since) or
    (status, since), which holds every column the statement reads: statuses, partners (the
    organisations of a rule's kinds and municipality, named in the statement), domains, urgency,
    cutoff. So the cost grows with the stalled referrals, not with all open ones; SQLite reads no
    clock's row, PostgreSQL only the stalled ones', to lock them. A referral that one rule's
    statement raised conflicts in the next and is skipped."""
    clock, org = SlaClock, Organisation
    organisations = db.session.execute(select(org.id, org.kind, func.lower(org.municipality))).all()
    whens, narrowed = [], []
    for rule in all_rules:
        cutoff = literal(subtract_working_days(now, rule.working_days), UTCDateTime)
        condition = [clock.status.in_(rule.statuses)]
        if rule.domains:
            condition.append(clock.domain.in_(rule.domains))
        if rule.urgent is not None:
            condition.append(clock.urgent.is_(rule.urgent))
        partners = _partners_of(rule, organisations)
        if partners is not None:
            if not partners:
                continue  # no organisation it could apply to: it matches no referral
            condition.append(clock.organisation_id.in_(partners))
        whens.append((and_(*condition), cutoff))
        narrowed.append([*condition, clock.since < cutoff])
    if not narrowed:
        return []
    if db.session.get_bind().dialect.name == "postgresql":
        # One statement, the rules' ranges ORed: it reads the stalled rows to lock them anyway, and a
        # statement per rule would pay the lock's and the planner's fixed costs once per rule.
        ranges = [or_(*(and_(*narrowing) for narrowing in narrowed))]
    else:
        # A statement per rule: ORed, SQLite would fetch each row the ranges found from the table;
        # one range at a time it reads the covering index alone (bench/run.py: 1.5 times faster).
        ranges = [and_(*narrowing) for narrowing in narrowed]
    raised = []
    for stalled_range in ranges:
        stalled = (select(clock.service_referral_id, clock.client_id, clock.organisation_id, clock.episode, literal(1),
                          clock.status, literal(now, UTCDateTime), literal(EscalationState.OPEN.value))
                   .where(stalled_range, clock.since < case(*whens, else_=None),
                          _not_raised(clock.service_referral_id, clock.episode, 1)))
        raised += _insert_ignoring_duplicates(_claim(stalled, clock))
    return raised


def _climb(now: datetime, level: int, after_working_days: int) -> list[int]:
    """The open escalations of the level below, raised long enough ago, one level up: in the same
    stalled episode as the referral's clock, which the statement locks as level 1 does (a status
    change racing the sweep then waits for it, or the sweep skips the referral)."""
    previous = aliased(Escalation)
    due = (select(previous.service_referral_id, previous.client_id, previous.organisation_id, previous.episode,
                  literal(level), previous.status, literal(now, UTCDateTime), literal(EscalationState.OPEN.value))
           .join(SlaClock, and_(SlaClock.service_referral_id == previous.service_referral_id,
                                SlaClock.episode == previous.episode))
           .where(previous.level == level - 1, previous.state == EscalationState.OPEN,
                  previous.raised_at < literal(subtract_working_days(now, after_working_days), UTCDateTime),
                  _not_raised(previous.service_referral_id, previous.episode, level)))
    return _insert_ignoring_duplicates(_claim(due, SlaClock))


SWEEP_CACHE_KIB = 64 * 1024


def escalate_overdue(now: datetime) -> dict[str, int]:
    """One sweep as of `now`: raise what is due at each level, tell the right people, commit once."""
    if db.session.get_bind().dialect.name == "sqlite":
        # The sweep reads and writes thousands of rows at once; SQLite's default page cache (2 MB) keeps
        # too few of the pages it touches. Sweeps run in the scheduler process, whose connections keep
        # the larger cache; web workers never run one and keep the default (bench/run.py: ~10 %).
        db.session.execute(text(f"PRAGMA cache_size=-{SWEEP_CACHE_KIB}"))
    steps, all_rules = ladder(), rules()
    with _probing_the_unique_key():
        raised = {1: _raise_level_one(now, all_rules),
                  2: _climb(now, 2, steps.level_2_after_working_days),
                  3: _climb(now, 3, steps.level_3_after_working_days)}
    _notify_new(now, [escalation_id for ids in raised.values() for escalation_id in ids])
    db.session.commit()
    return {f"level_{level}": len(ids) for level, ids in raised.items()}


# --- who hears of an escalation ----------------------------------------------------------------------

def _new_escalations(escalation_ids: list[int]):
    """SQL: the escalations this sweep raised, passed as ONE parameter (an array on PostgreSQL, a JSON
    list on SQLite): no limit on their number, no statement per round."""
    if db.session.get_bind().dialect.name == "postgresql":  # an array literal: cheaper to send than a list
        as_array = cast(bindparam("new_ids", "{" + ",".join(map(str, escalation_ids)) + "}"), postgresql.ARRAY(Integer))
        raised = func.unnest(as_array).table_valued("value").render_derived(name="raised")
    else:
        raised = func.json_each(bindparam("new_ids", json.dumps(escalation_ids))).table_valued("value").alias("raised")
    return (select(Escalation.id, Escalation.level, Escalation.service_referral_id.label("referral_id"),
                   Escalation.client_id, Escalation.organisation_id)
            .join(raised, Escalation.id == raised.c.value)
            .cte("new_escalations").prefix_with("MATERIALIZED"))  # read three times, made once


def _told(escalation_ids: list[int]) -> list:
    """SQL: the new escalations counted per coach (the coach and backup coach of the client's open
    trajectory hear of every level; a coach the client had before does not) and per partner
    organisation and level (whose people `_partner_side` finds): a few hundred rows, however many
    escalations. Per group: how many, the highest level, the lowest referral number (named when it
    is the only one)."""
    new = _new_escalations(escalation_ids)
    coaching = (select(new.c.id, new.c.level, new.c.referral_id, Handoff.coach_id, Handoff.backup_coach_id)
                .join(Trajectory, and_(Trajectory.client_id == new.c.client_id, Trajectory.closed_on.is_(None)))
                .join(Handoff, Handoff.id == Trajectory.handoff_id)).cte("coaching")

    def coach(column):
        return (select(literal("coach").label("side"), column.label("key"), literal(0).label("level"),
                       func.count().label("escalations"), func.max(coaching.c.level).label("highest"),
                       func.min(coaching.c.referral_id).label("referral_id"))
                .where(column.is_not(None)).group_by(column))

    partner = select(literal("partner"), new.c.organisation_id, new.c.level, func.count(), new.c.level,
                     func.min(new.c.referral_id)).group_by(new.c.organisation_id, new.c.level)
    return db.session.execute(union_all(coach(coaching.c.coach_id), coach(coaching.c.backup_coach_id),
                                        partner)).all()


def _partner_side(levels_by_organisation: dict[int, set[int]]) -> dict[tuple[int, int], list[int]]:
    """Who hears at the partner's side, per (organisation, level): level 1 its fixed contact persons
    (the directory's, else all its staff), level 2 its lead (until the directory names one: all its
    partner staff), level 3 the chain directors of its municipality."""
    at = {level: {org for org, levels in levels_by_organisation.items() if level in levels} for level in (1, 2, 3)}
    people: dict[tuple[int, int], list[int]] = {}
    for org_id, users in contact_users_by_organisation(at[1]).items():
        people[(org_id, 1)] = [user.id for user in users]
    for org_id, user_id in db.session.execute(select(User.organisation_id, User.id).where(
            User.organisation_id.in_(at[2]), User.role == Role.PARTNER, User.active.is_(True))):
        people.setdefault((org_id, 2), []).append(user_id)
    if at[3]:
        partner, director = aliased(Organisation), aliased(Organisation)
        for org_id, user_id in db.session.execute(
                select(partner.id, User.id).join(director, func.lower(director.municipality) ==
                                                 func.lower(partner.municipality))
                .join(User, User.organisation_id == director.id)
                .where(partner.id.in_(at[3]), User.role == Role.DIRECTOR, User.active.is_(True))):
            people.setdefault((org_id, 3), []).append(user_id)
    return people


@dataclass
class _Digest:
    escalations: int = 0
    level: int = 0
    referral_id: int | None = None  # the lowest referral number among them

    def add(self, escalations: int, level: int, referral_id: int) -> None:
        self.escalations += escalations
        self.level = max(self.level, level)
        self.referral_id = referral_id if self.referral_id is None else min(self.referral_id, referral_id)


def _digests(escalation_ids: list[int]) -> dict[int, _Digest]:
    """Per user: what this sweep raised that concerns them."""
    groups = _told(escalation_ids)
    levels_by_organisation: dict[int, set[int]] = {}
    for side, key, level, *_rest in groups:
        if side == "partner":
            levels_by_organisation.setdefault(key, set()).add(level)
    partner_people = _partner_side(levels_by_organisation)
    digests: dict[int, _Digest] = {}
    for side, key, level, escalations, highest, referral_id in groups:
        for user_id in [key] if side == "coach" else partner_people.get((key, level), []):
            digests.setdefault(user_id, _Digest()).add(escalations, highest, referral_id)
    return digests


def _worded(digest: _Digest) -> tuple[str, str]:
    """Subject and body in the current language; no client data, at most one referral number."""
    if digest.escalations == 1:
        return _("A referral is stalled"), _(
            "Referral %(id)s has waited longer than agreed (escalation level %(level)s). Open it in the hub.",
            id=digest.referral_id, level=digest.level)
    return _("Referrals are stalled"), _(
        "%(count)s referrals have waited longer than agreed (highest escalation level %(level)s). "
        "Open the escalations in the hub to see them.", count=digest.escalations, level=digest.level)


def _notify_new(now: datetime, escalation_ids: list[int]) -> None:
    """One notification per person per sweep, however many escalations concern them: a person with
    forty stalled referrals after an outage gets one message counting them, not forty. Who hears of
    what is worked out in SQL; Python words and seals one body per person, in their own language."""
    if not escalation_ids:
        return
    digests = _digests(escalation_ids)
    if not digests:
        return
    # the people told, in their own language; an account that was deactivated (a coach who left) is not
    locales = dict(db.session.execute(select(User.id, User.locale).where(
        User.id.in_(digests), User.active.is_(True))).all())
    default_locale = current_app.config["HUB"].default_locale
    notifications = []
    for user_id, digest in sorted(digests.items()):
        if user_id not in locales:
            continue
        with force_locale(locales[user_id] or default_locale):
            notifications.append((user_id, *_worded(digest)))
    write_notifications(now, notifications)


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
