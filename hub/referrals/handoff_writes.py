"""Writing a checked handoff: its client, consent (with scope), story, handoff, two audit events and a
notification for each active coach of the programme, in one transaction; or nothing at all when the
organisation handed to is not an exit programme (`write` answers None).

On PostgreSQL all of it is one statement, the programme's check and its coaches included: each INSERT
in a WITH takes the ids the one before returned, and the first takes the programme's id from a
look-up that finds nothing unless it is an exit programme, so that then nothing is inserted. As the
request's only write it is a transaction by itself, without BEGIN and COMMIT (hub/connections.py).
Separate statements cost a gunicorn worker ~0.25 ms of CPU each in the driver (psycopg) and the
database a round trip each, about as much as the rest of the handoff together (bench/run.py).

The statement stays within psycopg's cache of converted queries (at most 4,096 bytes and 50
parameters, tests/test_handoff.py): beyond either, psycopg parses it afresh for every handoff, 0.8 ms
of a worker's CPU (`python -m bench.run --only handoff`). So what the rows share (the programme, the
time, the actor) is one parameter, read from the programme's look-up; constants are written into the
SQL; plain strings go without casts; both audit events are one INSERT; and the SQL names the
look-up, the organisation and the coaches with one letter each (p, o, u).

On SQLite, which has no INSERT in a WITH and no round trips: the programme's look-up, then one
INSERT per table, each compiled once and run on the driver's own cursor (`SqliteStatement`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import (
    Integer,
    SmallInteger,
    String,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal_column,
    select,
    true,
)
from sqlalchemy.dialects import postgresql

from hub.audit.models import AuditEvent
from hub.auth.models import User
from hub.connections import ALONE, SqliteStatement
from hub.consent.models import Consent, ConsentScope
from hub.db_types import UTCDateTime
from hub.extensions import db
from hub.notifications.models import Notification
from hub.notifications.service import worded, write_notifications
from hub.partners.models import Organisation
from hub.referrals.models import Client, Handoff, HandoffStatus, StoryDomain
from hub.vocab import ConsentPurpose, OrganisationKind, Role


@dataclass
class HandoffRows:
    """Every row of a handoff, sealed, by column name; the ids are the database's to give."""

    programme_id: int  # the organisation handed to: written only if it is an exit programme
    client: dict  # without programme_id
    consent: dict  # without client_id and recipient_organisation_id
    scope: list[str]
    domains: list[dict]  # without client_id
    handoff: dict  # without client_id, consent_id and to_organisation_id
    consent_recorded: dict  # audit event, without object_id and client_id
    submitted: dict  # audit event, without object_id, client_id and ground
    notice: tuple[str, str]  # (subject, body) marked with N_, worded for each coach in the coach's language
    now: datetime  # when all of it was written (created, recorded, submitted, occurred)


@dataclass(frozen=True)
class Written:
    handoff_id: int
    client_id: int
    programme_name: str


def write(rows: HandoffRows) -> Written | None:
    """Write the rows; None (and nothing written) when the organisation is not an exit programme."""
    if db.session.get_bind().dialect.name == "postgresql":
        return _write_in_one_statement(rows)
    return _write_per_table(rows)


# --- SQLite: the programme and its coaches, then one INSERT per table ----------------------------------

_CLIENT, _CONSENT, _SCOPE, _DOMAINS, _HANDOFF, _EVENTS = (SqliteStatement.inserting(model.__table__) for model in (
    Client, Consent, ConsentScope, StoryDomain, Handoff, AuditEvent))
_PROGRAMME_AND_COACHES = SqliteStatement(
    select(Organisation.name, User.id.label("coach_id"), User.locale)
    .outerjoin(User, and_(User.organisation_id == Organisation.id, User.role == Role.COACH, User.active.is_(True)))
    .where(Organisation.id == bindparam("organisation_id"), Organisation.kind == OrganisationKind.EXIT_PROGRAMME)
    .order_by(User.id), writes=False)


def _write_per_table(rows: HandoffRows) -> Written | None:
    """On the driver's own cursor (`SqliteStatement`): eight statements through SQLAlchemy's execution
    cost ~1 ms of CPU more, a sixth of the handoff."""
    connection = db.session.connection()
    found = _PROGRAMME_AND_COACHES.execute(connection, {"organisation_id": rows.programme_id}).fetchall()
    if not found:
        return None
    programme = rows.programme_id
    client_id = _CLIENT.execute(connection, {**rows.client, "programme_id": programme}).lastrowid
    consent_id = _CONSENT.execute(connection, {**rows.consent, "client_id": client_id,
                                               "recipient_organisation_id": programme}).lastrowid
    _SCOPE.executemany(connection, [{"consent_id": consent_id, "item": item} for item in rows.scope])
    if rows.domains:
        _DOMAINS.executemany(connection, [{**domain, "client_id": client_id} for domain in rows.domains])
    handoff_id = _HANDOFF.execute(connection, {**rows.handoff, "client_id": client_id, "consent_id": consent_id,
                                               "to_organisation_id": programme}).lastrowid
    _EVENTS.executemany(connection, [
        {**rows.consent_recorded, "object_id": str(consent_id), "client_id": client_id},
        {**rows.submitted, "object_id": str(handoff_id), "client_id": client_id, "ground": f"consent:{consent_id}"}])
    default_locale = current_app.config["HUB"].default_locale
    subject, body = rows.notice
    write_notifications(rows.now, [(coach_id, worded(subject, locale or default_locale),
                                    worded(body, locale or default_locale))
                                   for _name, coach_id, locale in found if coach_id is not None])
    return Written(handoff_id, client_id, found[0][0])


# --- PostgreSQL: one statement ---------------------------------------------------------------------

# The columns each row gives, by table; the rest are what the rows share (the programme, the time,
# the actor: columns of the `programme` look-up), constants, or the ids of the rows before.
CLIENT_COLUMNS = ("alias", "gender", "birth_year", "languages", "municipality_of_residence",
                  "municipality_of_work", "legal_status", "target_groups", "safe_contact", "story_summary")
CONSENT_COLUMNS = ("method", "statement", "statement_hash", "valid_until")
HANDOFF_COLUMNS = ("urgency", "safety_concerns")
EVENT_COLUMNS = ("tag", "action", "object_type", "detail")  # the two audit events' own, as arrays
SHARED_EVENT_COLUMNS = ("user_role", "source_address", "result")
LOCALES = ("nl", "en")


def _sql(value: str):
    """A constant written into the statement (a trusted enum value), not sent as a parameter."""
    return literal_column(f"'{value}'")


def _given(table, columns) -> list:
    """The row's own values, each named by its column (the two uids by their table too). Plain
    strings go without a type, so without a cast in the SQL: PostgreSQL takes them as the column's
    type (a cast on every one would take the statement past psycopg's cache)."""
    return [bindparam(name, type_=_typed(table.c[name].type)) for name in columns]


def _uid(table):
    return bindparam(f"{table.name.removesuffix('s')}_uid", type_=_typed(table.c.uid.type))


def _typed(type_):
    return None if type(type_) in (String, Text) else type_


def _arrays(prefix: str, ordinality: str | None = None, **types):
    """unnest() of one array parameter per column, as a table of rows (named by the prefix's initial)."""
    arrays = [bindparam(f"{prefix}_{name}", type_=postgresql.ARRAY(type_)) for name, type_ in types.items()]
    return func.unnest(*arrays).table_valued(*types, with_ordinality=ordinality).render_derived(name=prefix[0])


def _one_statement():
    clients, consents, scope, domains = (m.__table__ for m in (Client, Consent, ConsentScope, StoryDomain))
    handoffs, events, notifications = (m.__table__ for m in (Handoff, AuditEvent, Notification))
    # Short names in the SQL for what it names most often (the programme, its organisation, the coaches).
    organisations, users = Organisation.__table__.alias("o"), User.__table__.alias("u")
    # The exit programme handed to (no row otherwise: then every INSERT below inserts nothing), with
    # what every row shares.
    programme = (select(organisations.c.id, organisations.c.name, bindparam("now", type_=UTCDateTime()).label("at"),
                        bindparam("actor", type_=Integer).label("actor"),
                        bindparam("actor_org", type_=Integer).label("org"),
                        bindparam("default_locale", type_=String).label("lang"))
                 .where(organisations.c.id == bindparam("programme", type_=Integer),
                        organisations.c.kind == _sql(OrganisationKind.EXIT_PROGRAMME.value))
                 .cte("p"))
    client = (insert(clients).from_select(["programme_id", "uid", *CLIENT_COLUMNS, "created_at"], select(
        programme.c.id, _uid(clients), *_given(clients, CLIENT_COLUMNS), programme.c.at))
        .returning(clients.c.id).cte("client"))
    consent = insert(consents).from_select(
        ["client_id", "recipient_organisation_id", *CONSENT_COLUMNS, "purpose", "recorded_by_id",
         "recorded_by_organisation_id", "recorded_at", "valid_from"],
        select(client.c.id, programme.c.id, *_given(consents, CONSENT_COLUMNS),
               _sql(ConsentPurpose.HANDOFF.value), programme.c.actor, programme.c.org, programme.c.at, programme.c.at)
        .select_from(client.join(programme, true()))).returning(consents.c.id).cte("consent")
    scope_rows = _arrays("scope", item=String)
    new_scope = insert(scope).from_select(["consent_id", "item"], select(consent.c.id, scope_rows.c.item).select_from(
        consent.join(scope_rows, true()))).cte("new_scope")
    domain_rows = _arrays("domain", uid=String, domain=String, score=SmallInteger, wish=SmallInteger, notes=Text)
    new_domains = insert(domains).from_select(
        ["client_id", "uid", "domain", "score", "wish", "notes", "updated_at"],
        select(client.c.id, domain_rows.c.uid, domain_rows.c.domain, domain_rows.c.score, domain_rows.c.wish,
               domain_rows.c.notes, programme.c.at)
        .select_from(client.join(programme, true()).join(domain_rows, true()))).cte("new_domains")
    handoff = insert(handoffs).from_select(
        ["client_id", "consent_id", "to_organisation_id", "uid", *HANDOFF_COLUMNS, "from_organisation_id",
         "from_user_id", "status", "submitted_at", "version"],
        select(client.c.id, consent.c.id, programme.c.id, _uid(handoffs), *_given(handoffs, HANDOFF_COLUMNS),
               programme.c.org, programme.c.actor, _sql(HandoffStatus.SUBMITTED.value), programme.c.at,
               literal_column("1"))
        .select_from(client.join(consent, true()).join(programme, true()))
    ).returning(handoffs.c.id, handoffs.c.client_id, handoffs.c.consent_id).cte("handoff")
    # Both audit events in one INSERT: 1 the consent recorded, 2 the handoff submitted.
    event_rows = _arrays("event", ordinality="n", tag=String, action=String, object_type=String, detail=String)
    first = event_rows.c.n == literal_column("1")
    new_events = insert(events).from_select(
        [*EVENT_COLUMNS, "ground", "object_id", *SHARED_EVENT_COLUMNS, "user_id", "organisation_id", "occurred_at",
         "client_id"],
        select(event_rows.c.tag, event_rows.c.action, event_rows.c.object_type, event_rows.c.detail,
               case((first, bindparam("recorded_ground")),
                    else_=_sql("consent:") + cast(handoff.c.consent_id, String)),
               cast(case((first, handoff.c.consent_id), else_=handoff.c.id), String),
               *_given(events, SHARED_EVENT_COLUMNS), programme.c.actor, programme.c.org, programme.c.at,
               handoff.c.client_id)
        .select_from(handoff.join(programme, true()).join(event_rows, true()))).cte("new_events")
    language = func.coalesce(users.c.locale, programme.c.lang)

    def worded(part: str, column):
        in_dutch, otherwise = (bindparam(f"{part}_{locale}", type_=_typed(column.type)) for locale in LOCALES)
        return case((language == _sql("nl"), in_dutch), else_=otherwise)

    # A notice to each active coach of the programme (there is a programme row only if the handoff was written).
    new_notifications = insert(notifications).from_select(
        ["user_id", "subject", "body", "created_at", "email_status", "email_attempts"],
        select(users.c.id, worded("subject", notifications.c.subject), worded("body", notifications.c.body),
               programme.c.at, _sql("pending"), literal_column("0"))
        .select_from(users.join(programme, users.c.organisation_id == programme.c.id))
        .where(users.c.role == _sql(Role.COACH.value), users.c.active.is_(True))
    ).cte("new_notifications")
    return (select(handoff.c.id, handoff.c.client_id, programme.c.name)
            .select_from(handoff.join(programme, true()))
            .add_cte(new_scope, new_domains, new_events, new_notifications))


_ONE_STATEMENT = _one_statement()
_compiled: dict[str, tuple[str, dict]] = {}


def _compiled_for(dialect) -> tuple[str, dict]:
    """The statement's SQL for this dialect, and the processors of the parameters that have one (times,
    JSON, sealed text), as SQLAlchemy would apply them: compiled once, then sent with
    `exec_driver_sql`, which keeps SQLAlchemy's error handling (a lost connection is recognised and
    the pool told) but spares its per-execution work on a compiled statement (~0.2 ms of CPU)."""
    found = _compiled.get(dialect.name)
    if found is None:
        compiled = _ONE_STATEMENT.compile(dialect=dialect)
        processors = {name: process for name, bind in compiled.binds.items()
                      if (process := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None}
        found = _compiled[dialect.name] = (str(compiled), processors)
    return found


def _columns(row: dict, columns) -> dict:
    return {name: row.get(name) for name in columns}


def _wordings(subject: str, body: str) -> dict:
    """The notice in each language the hub speaks, for the statement to pick per coach."""
    parameters = {"default_locale": current_app.config["HUB"].default_locale}
    for locale in LOCALES:
        parameters[f"subject_{locale}"], parameters[f"body_{locale}"] = worded(subject, locale), worded(body, locale)
    return parameters


def _write_in_one_statement(rows: HandoffRows) -> Written | None:
    domains, submitted, events = rows.domains, rows.submitted, (rows.consent_recorded, rows.submitted)
    parameters = {
        "programme": rows.programme_id, "now": rows.now,
        "actor": submitted["user_id"], "actor_org": submitted["organisation_id"],
        "client_uid": rows.client["uid"], **_columns(rows.client, CLIENT_COLUMNS),
        **_columns(rows.consent, CONSENT_COLUMNS),
        "scope_item": rows.scope,
        **{f"domain_{name}": [domain[name] for domain in domains] for name in ("uid", "score", "wish", "notes")},
        "domain_domain": [str(domain["domain"]) for domain in domains],
        "handoff_uid": rows.handoff["uid"], **_columns(rows.handoff, HANDOFF_COLUMNS),
        **{f"event_{name}": [None if event[name] is None else str(event[name]) for event in events]
           for name in EVENT_COLUMNS},
        "recorded_ground": rows.consent_recorded["ground"],
        **_columns(submitted, SHARED_EVENT_COLUMNS),
        **_wordings(*rows.notice),
    }
    db.session.flush()  # anything the request has pending is written first, in the request's transaction
    connection = db.session.connection()
    sql, processors = _compiled_for(connection.dialect)
    for name, process in processors.items():
        parameters[name] = process(parameters[name])
    # A whole transaction by itself: with no transaction open (the request wrote nothing before it),
    # it runs without BEGIN and COMMIT, two round trips fewer (hub/connections.py).
    written = connection.exec_driver_sql(sql, parameters, execution_options={ALONE: True}).one_or_none()
    return None if written is None else Written(*written)
