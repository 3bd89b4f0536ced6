"""`record()`: the one function that writes the access log."""
from __future__ import annotations

from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy import Integer, String, bindparam, func, insert, select, true
from sqlalchemy.dialects import postgresql

from hub.audit.models import AuditAction, AuditEvent, AuditEventSubject, AuditResult
from hub.clock import utcnow
from hub.extensions import db


def record(tag: str, action: AuditAction, result: AuditResult = AuditResult.SUCCESS, *,
           object_type: str | None = None, object_id: object = None, client_id: int | None = None,
           ground: str | None = None, detail: str | None = None, user=None) -> AuditEvent:
    """Record one audit event, named `source:subject:action` (e.g. `auth:session:created`).

    The actor and source address come from the current request unless `user` is given.
    A success is part of the request's transaction: if the work rolls back, so does its event, except
    a read (`SHOWN`): what was read may be on the error page all the same (a form shown again with
    its mistakes), so it is written again after the rollback (`write_durable_events`).
    A refusal or an error is written even when the request's transaction rolls back.
    """
    fields = _fields(tag, action, result, object_type=object_type, object_id=object_id, client_id=client_id,
                     ground=ground, detail=detail, user=user)
    event = AuditEvent(**fields)
    if has_request_context() and result is not AuditResult.SUCCESS:
        g.setdefault("durable_audit_events", []).append(event)
    else:
        db.session.add(event)
        if has_request_context() and action in SHOWN:
            g.setdefault("reads_to_keep", []).append(lambda: db.session.add(AuditEvent(**fields)))
    return event


# What a read writes: kept even when its request answers with an error (see `record`).
SHOWN = (AuditAction.READ, AuditAction.EXPORT, AuditAction.SEARCH)


def success_event(tag: str, action: AuditAction, *, object_type: str | None = None, object_id: object = None,
                  client_id: int | None = None, ground: str | None = None, detail: str | None = None,
                  user=None) -> dict:
    """The row of a success event, as `record` would write it, for a writer of its own (the handoff's,
    hub/referrals/handoff_writes.py)."""
    return _fields(tag, action, AuditResult.SUCCESS, object_type=object_type, object_id=object_id,
                   client_id=client_id, ground=ground, detail=detail, user=user)


def _fields(tag: str, action: AuditAction, result: AuditResult, *, object_type, object_id, client_id, ground,
            detail, user) -> dict:
    in_request = has_request_context()
    if user is None and in_request and current_user and current_user.is_authenticated:
        user = current_user
    return {
        "tag": tag, "action": action, "result": result,
        "user_id": user.id if user else None,
        "user_role": str(user.role) if user else None,
        "organisation_id": user.organisation_id if user else None,
        "object_type": object_type, "object_id": None if object_id is None else str(object_id),
        "client_id": client_id, "ground": ground or (f"role:{user.role}" if user else None),
        "source_address": request.remote_addr if in_request else None,
        "detail": detail, "occurred_at": utcnow(),
    }


def record_list(tag: str, *, object_type: str, shown: list[tuple[object, int | None]], filters: dict,
                page: int, per_page: int, user=None) -> int:
    """Record one list read (an inbox, a queue, an overview): one `search` event naming who, the
    filter and the page, and a subject per record shown (`shown`: (object id, client id) pairs),
    so that the clients' read logs find it. Two statements whatever the page size: the event, and
    its subjects in one bulk INSERT (no ORM objects per row: these lists are on the hot path).
    Part of the request's transaction, like any success, and kept like any read (`record`). Returns the
    event's id."""
    described = " ".join(f"{name}={value}" for name, value in sorted(filters.items()) if value not in (None, ""))
    fields = _fields(tag, AuditAction.SEARCH, AuditResult.SUCCESS, object_type=object_type, object_id=None,
                     client_id=None, ground=None, user=user,
                     detail=f"{described} page={page} per_page={per_page} shown={len(shown)}".strip()[:200])
    subjects = {str(object_id): client_id for object_id, client_id in shown}
    if has_request_context():
        g.setdefault("reads_to_keep", []).append(lambda: _insert_list(fields, subjects))
    return _insert_list(fields, subjects)


def _insert_list(fields: dict, subjects: dict) -> int:
    if subjects and db.session.get_bind().dialect.name == "postgresql":
        return db.session.execute(_INSERT_EVENT_WITH_SUBJECTS, {
            **fields, "object_ids": list(subjects), "client_ids": list(subjects.values())}).scalars().first()
    event_id = db.session.execute(_INSERT_EVENT_RETURNING_ID, fields).scalar_one()
    if subjects:
        db.session.execute(_INSERT_SUBJECTS, [
            {"event_id": event_id, "object_id": object_id, "client_id": client_id}
            for object_id, client_id in subjects.items()])
    return event_id


def record_listing(tag: str, listing: dict, *, object_type: str, filters: dict, user=None) -> int:
    """`record_list` for a page from `hub.api.paginate` of rows that carry `id` and `client_id`
    (before they are turned into dicts for the answer)."""
    return record_list(tag, object_type=object_type, shown=[(row.id, row.client_id) for row in listing["items"]],
                       filters=filters, page=listing["page"], per_page=listing["per_page"], user=user)


# Built once, run with each row as parameters: an INSERT built with `.values(row)` in every request cost
# ~0.2 ms of CPU to build and look up in the compiled cache, five times what running it costs.
_INSERT_EVENT_RETURNING_ID = insert(AuditEvent.__table__).returning(AuditEvent.__table__.c.id)
_INSERT_SUBJECTS = insert(AuditEventSubject.__table__)


def _event_with_subjects_statement():
    """PostgreSQL: a list read's event and its subjects in one statement (the event's INSERT in a WITH,
    the subjects from two arrays), one round trip instead of an INSERT and a batch of 25: ~1 ms less on
    a page of 25 (bench/profile.py)."""
    events, subjects = AuditEvent.__table__, AuditEventSubject.__table__
    event = (insert(events).values({column.name: bindparam(column.name, type_=column.type)
                                    for column in events.c if column.name != "id"})
             .returning(events.c.id).cte("event"))
    shown = (func.unnest(bindparam("object_ids", type_=postgresql.ARRAY(String)),
                         bindparam("client_ids", type_=postgresql.ARRAY(Integer)))
             .table_valued("object_id", "client_id").render_derived(name="shown"))
    return (insert(subjects).from_select(["event_id", "object_id", "client_id"],
                                         select(event.c.id, shown.c.object_id, shown.c.client_id)
                                         .select_from(event.join(shown, true())))
            .returning(subjects.c.event_id))


_INSERT_EVENT_WITH_SUBJECTS = _event_with_subjects_statement()


def keep_even_if_refused(row) -> None:
    """Write `row` even though the request answers with an error and rolls back its own work, as a
    refusal in the access log is (e.g. an erasure request held by a legal hold: 409, yet recorded).
    Outside a request it simply joins the session."""
    if has_request_context():
        g.setdefault("durable_audit_events", []).append(row)
    else:
        db.session.add(row)


def execute_even_if_refused(statement) -> None:
    """Run `statement` (an UPDATE that records a refusal's consequence, e.g. a session marked ended)
    even though the request answers with an error and rolls back its own work: after that commit or
    rollback, with the durable audit events. Outside a request it simply runs now."""
    if has_request_context():
        g.setdefault("durable_statements", []).append(statement)
    else:
        db.session.execute(statement)


def write_durable_events(*, keep_reads: bool = False) -> None:
    """Write the refusals and errors recorded during this request, after its own commit or rollback;
    with `keep_reads` (a 4xx answer, its work rolled back), its reads again too: the page may show
    what was read."""
    events = g.pop("durable_audit_events", [])
    statements = g.pop("durable_statements", [])
    reads = g.pop("reads_to_keep", [])
    if not keep_reads:
        reads = []  # committed with the request's work, or shown on no page (a 5xx)
    if events or statements or reads:
        for statement in statements:
            db.session.execute(statement)
        db.session.add_all(events)
        for write_again in reads:
            write_again()
        db.session.commit()
