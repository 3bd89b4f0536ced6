"""Writing a checked handoff: its client, consent (with scope), story, handoff, two audit events and
the coaches' notifications, in the request's transaction.

On PostgreSQL all of it is one statement: each INSERT in a WITH takes the ids the one before it
returned. Eight statements cost a gunicorn worker ~0.25 ms of CPU each in the driver (psycopg) and
the database a round trip each, about as much as the rest of the handoff together (bench/run.py, a
handoff's CPU per request in the worker and in the PostgreSQL backend). On SQLite, which has no
INSERT in a WITH and no round trips, one prepared INSERT per table (ids by RETURNING).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, SmallInteger, String, Text, bindparam, cast, func, insert, literal, select, true
from sqlalchemy.dialects import postgresql

from hub.audit.models import AuditEvent
from hub.consent.models import Consent, ConsentScope
from hub.extensions import db
from hub.notifications.models import Notification
from hub.referrals.models import Client, Handoff, StoryDomain


@dataclass
class HandoffRows:
    """Every row of a handoff, sealed and worded, by column name; the ids are the database's to give."""

    client: dict
    consent: dict  # without client_id
    scope: list[str]
    domains: list[dict]  # without client_id
    handoff: dict  # without client_id and consent_id
    consent_recorded: dict  # audit event, without object_id and client_id
    submitted: dict  # audit event, without object_id, client_id and ground
    notifications: list[dict]  # user_id, subject, body (plain: sealed here)
    now: datetime  # when the story and the notifications were written


def write(rows: HandoffRows) -> tuple[int, int]:
    """Write the rows; returns (handoff id, client id)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return _write_in_one_statement(rows)
    return _write_per_table(rows)


# --- SQLite: one prepared INSERT per table ---------------------------------------------------------

def _insert(table):
    return insert(table).returning(table.c.id)


_CLIENT, _CONSENT, _HANDOFF = (_insert(model.__table__) for model in (Client, Consent, Handoff))
_SCOPE, _DOMAINS = insert(ConsentScope.__table__), insert(StoryDomain.__table__)
_EVENTS, _NOTIFICATIONS = insert(AuditEvent.__table__), insert(Notification.__table__)


def _write_per_table(rows: HandoffRows) -> tuple[int, int]:
    execute = db.session.execute
    client_id = execute(_CLIENT, rows.client).scalar_one()
    consent_id = execute(_CONSENT, {**rows.consent, "client_id": client_id}).scalar_one()
    execute(_SCOPE, [{"consent_id": consent_id, "item": item} for item in rows.scope])
    if rows.domains:
        execute(_DOMAINS, [{**domain, "client_id": client_id} for domain in rows.domains])
    handoff_id = execute(_HANDOFF, {**rows.handoff, "client_id": client_id, "consent_id": consent_id}).scalar_one()
    execute(_EVENTS, [
        {**rows.consent_recorded, "object_id": str(consent_id), "client_id": client_id},
        {**rows.submitted, "object_id": str(handoff_id), "client_id": client_id, "ground": f"consent:{consent_id}"}])
    if rows.notifications:
        execute(_NOTIFICATIONS, [{**row, "created_at": rows.now} for row in rows.notifications])
    return handoff_id, client_id


# --- PostgreSQL: one statement ---------------------------------------------------------------------

CLIENT_COLUMNS = ("uid", "programme_id", "alias", "gender", "birth_year", "languages", "municipality_of_residence",
                  "municipality_of_work", "legal_status", "target_groups", "safe_contact", "story_summary",
                  "created_at")
CONSENT_COLUMNS = ("recipient_organisation_id", "purpose", "method", "statement", "statement_hash", "recorded_by_id",
                   "recorded_by_organisation_id", "recorded_at", "valid_from", "valid_until")
HANDOFF_COLUMNS = ("uid", "from_organisation_id", "from_user_id", "to_organisation_id", "urgency", "safety_concerns",
                   "status", "submitted_at", "version")
EVENT_COLUMNS = ("occurred_at", "tag", "action", "result", "user_id", "user_role", "organisation_id", "object_type",
                 "source_address", "detail")


def _params(table, columns, prefix: str) -> list:
    return [bindparam(f"{prefix}_{name}", type_=table.c[name].type) for name in columns]


def _arrays(prefix: str, **types):
    """unnest() of one array parameter per column, as a table of rows."""
    arrays = [bindparam(f"{prefix}_{name}", type_=postgresql.ARRAY(type_)) for name, type_ in types.items()]
    return func.unnest(*arrays).table_valued(*types).render_derived(name=f"{prefix}_rows")


def _one_statement():
    clients, consents, scope, domains = (m.__table__ for m in (Client, Consent, ConsentScope, StoryDomain))
    handoffs, events, notifications = (m.__table__ for m in (Handoff, AuditEvent, Notification))
    client = (insert(clients).values(dict(zip(CLIENT_COLUMNS, _params(clients, CLIENT_COLUMNS, "client"), strict=True)))
              .returning(clients.c.id).cte("new_client"))
    consent = (insert(consents).from_select(["client_id", *CONSENT_COLUMNS], select(
        client.c.id, *_params(consents, CONSENT_COLUMNS, "consent"))).returning(consents.c.id).cte("new_consent"))
    scope_rows = _arrays("scope", item=String)
    new_scope = insert(scope).from_select(["consent_id", "item"], select(consent.c.id, scope_rows.c.item).select_from(
        consent.join(scope_rows, true()))).cte("new_scope")
    domain_rows = _arrays("domain", uid=String, domain=String, score=SmallInteger, wish=SmallInteger, notes=Text)
    new_domains = insert(domains).from_select(
        ["client_id", "uid", "domain", "score", "wish", "notes", "updated_at"],
        select(client.c.id, domain_rows.c.uid, domain_rows.c.domain, domain_rows.c.score, domain_rows.c.wish,
               domain_rows.c.notes, *_params(domains, ["updated_at"], "domain"))
        .select_from(client.join(domain_rows, true()))).cte("new_domains")
    handoff = (insert(handoffs).from_select(["client_id", "consent_id", *HANDOFF_COLUMNS], select(
        client.c.id, consent.c.id, *_params(handoffs, HANDOFF_COLUMNS, "handoff"))
        .select_from(client.join(consent, true())))
        .returning(handoffs.c.id, handoffs.c.client_id, handoffs.c.consent_id).cte("new_handoff"))
    consent_recorded = insert(events).from_select(
        [*EVENT_COLUMNS, "ground", "object_id", "client_id"],
        select(*_params(events, [*EVENT_COLUMNS, "ground"], "recorded"), cast(handoff.c.consent_id, String),
               handoff.c.client_id)).cte("consent_recorded")
    submitted = insert(events).from_select(
        [*EVENT_COLUMNS, "ground", "object_id", "client_id"],
        select(*_params(events, EVENT_COLUMNS, "submitted"), literal("consent:") + cast(handoff.c.consent_id, String),
               cast(handoff.c.id, String), handoff.c.client_id)).cte("handoff_submitted")
    notification_rows = _arrays("notification", user_id=Integer, subject=String, body=Text)
    new_notifications = insert(notifications).from_select(
        ["user_id", "subject", "body", "created_at", "email_status", "email_attempts"],
        select(notification_rows.c.user_id, notification_rows.c.subject, notification_rows.c.body,
               *_params(notifications, ["created_at"], "notification"), literal("pending"), literal(0))
    ).cte("new_notifications")
    return select(handoff.c.id, handoff.c.client_id).add_cte(
        new_scope, new_domains, consent_recorded, submitted, new_notifications)


_ONE_STATEMENT = _one_statement()
_SEAL_BODY = Notification.__table__.c.body.type.process_bind_param  # EncryptedText: the outbox's body


def _prefixed(prefix: str, row: dict, columns) -> dict:
    return {f"{prefix}_{name}": row.get(name) for name in columns}


def _write_in_one_statement(rows: HandoffRows) -> tuple[int, int]:
    domains, notifications = rows.domains, rows.notifications
    parameters = {
        **_prefixed("client", rows.client, CLIENT_COLUMNS),
        **_prefixed("consent", rows.consent, CONSENT_COLUMNS),
        "scope_item": rows.scope,
        **{f"domain_{name}": [domain[name] for domain in domains] for name in ("uid", "score", "wish", "notes")},
        "domain_domain": [str(domain["domain"]) for domain in domains],
        "domain_updated_at": rows.now,
        **_prefixed("handoff", rows.handoff, HANDOFF_COLUMNS),
        **_prefixed("recorded", rows.consent_recorded, [*EVENT_COLUMNS, "ground"]),
        **_prefixed("submitted", rows.submitted, EVENT_COLUMNS),
        "notification_user_id": [row["user_id"] for row in notifications],
        "notification_subject": [row["subject"] for row in notifications],
        "notification_body": [_SEAL_BODY(row["body"], None) for row in notifications],
        "notification_created_at": rows.now,
    }
    handoff_id, client_id = db.session.execute(_ONE_STATEMENT, parameters).one()
    return handoff_id, client_id
