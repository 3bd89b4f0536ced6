"""The audit log for admins, filtered and paginated. Reading it is itself logged."""
from datetime import UTC, datetime, time, timedelta

from flask import Blueprint, render_template, request
from flask_login import login_required
from marshmallow import EXCLUDE
from sqlalchemy import select

from hub.api import paginate
from hub.audit.models import AuditAction, AuditEvent, AuditResult, events_about
from hub.audit.schemas import AuditFilterSchema
from hub.audit.service import record
from hub.auth.permissions import Permission, require
from hub.extensions import db

bp = Blueprint("audit", __name__, template_folder="templates")


def audit_query(args: dict):
    query = select(AuditEvent).order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    for name in ("user_id", "organisation_id", "action", "result"):
        if name in args:
            query = query.where(getattr(AuditEvent, name) == args[name])
    if "client_id" in args:  # also the list reads that showed the client
        query = query.where(AuditEvent.id.in_(events_about(args["client_id"])))
    if "tag" in args:
        query = query.where(AuditEvent.tag.startswith(args["tag"], autoescape=True))
    if "since" in args:
        query = query.where(AuditEvent.occurred_at >= datetime.combine(args["since"], time(), UTC))
    if "until" in args:
        query = query.where(AuditEvent.occurred_at < datetime.combine(args["until"] + timedelta(days=1), time(), UTC))
    return query


@bp.get("/audit")
@login_required
@require(Permission.AUDIT_READ)
def audit_log():
    raw = {k: v for k, v in request.args.items() if v != ""}
    errors = AuditFilterSchema().validate(raw)
    args = {} if errors else AuditFilterSchema().load(raw, unknown=EXCLUDE)
    page = args.pop("page", 1)
    listing = paginate(audit_query(args), page, 50, db.session)
    record("audit:log:searched", AuditAction.SEARCH, object_type="audit_log")
    return render_template("audit/log.html", listing=listing, filters=raw, errors=errors,
                           action_options=[(a.value, a.value) for a in AuditAction],
                           result_options=[(r.value, r.value) for r in AuditResult])
