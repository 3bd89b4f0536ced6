"""The web forms of the service-referral pages, validated by marshmallow like the API; their errors
in the words of the interface. Times typed in a form are Dutch clock times (Europe/Amsterdam)."""
from __future__ import annotations

import re
from datetime import UTC

from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from hub.forms import friendly
from hub.referrals.escalation import AMSTERDAM, MAX_WORKING_DAYS
from hub.referrals.service_referral_models import HoldReason, RejectReason, Status
from hub.vocab import LifeDomain, OrganisationKind

LIST_FILTERS = ("open", "all", *(s.value for s in Status))


class ListArgs(Schema):
    status = fields.String(load_default="open", validate=validate.OneOf(LIST_FILTERS))
    client_id = fields.Integer(load_default=None, validate=validate.Range(min=1))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))


class EscalationArgs(Schema):
    state = fields.String(load_default="all", validate=validate.OneOf(("all", "open", "resolved")))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))


class ReferForm(Schema):
    organisation_id = fields.Integer(required=True, validate=validate.Range(min=1))
    domain = fields.Enum(LifeDomain, by_value=True, required=True)
    note = fields.String(load_default=None, validate=validate.Length(max=5000))
    urgent = fields.Boolean(load_default=False)


class StatusForm(Schema):
    """One step on the referral: the partner's progress or rejection, the coach's hold, resume, cancel."""

    status = fields.Enum(Status, by_value=True, required=True)
    reason = fields.String(load_default=None)
    occurred_at = fields.NaiveDateTime(load_default=None)
    note = fields.String(load_default=None, validate=validate.Length(max=5000))

    @validates_schema
    def reason_fits_the_status(self, data, **_kwargs):
        choices = {Status.ON_HOLD: HoldReason, Status.REJECTED: RejectReason}.get(data.get("status"))
        if choices is not None and data.get("reason") not in {c.value for c in choices}:
            message = _("Choose whose turn it is.") if choices is HoldReason else _("Choose a reason.")
            raise ValidationError(message, "reason")

    @post_load
    def as_utc(self, data, **_kwargs):
        if data["status"] not in (Status.ON_HOLD, Status.REJECTED):
            data["reason"] = None
        if data["occurred_at"] is not None:  # a Dutch clock time, as the form says
            data["occurred_at"] = data["occurred_at"].replace(tzinfo=AMSTERDAM).astimezone(UTC)
        return data


class MessageForm(Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=10_000))


class OverrideForm(Schema):
    """A chain director's norm: status, and optionally a partner kind, a life domain and urgency."""

    status = fields.Enum(Status, by_value=True, required=True)
    kind = fields.Enum(OrganisationKind, by_value=True, load_default=None)
    domain = fields.Enum(LifeDomain, by_value=True, load_default=None)
    urgent = fields.String(load_default=None, validate=validate.OneOf(("yes", "no")))
    working_days = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_WORKING_DAYS))

    @post_load
    def urgency(self, data, **_kwargs):
        data["urgent"] = {"yes": True, "no": False}.get(data["urgent"])
        return data


TOO_LONG = re.compile(r"Length must be between \d+ and (\d+)\.")


def _friendly(message: str) -> str:
    """marshmallow's English messages as the interface says them (translated); a length is counted
    in characters."""
    if match := TOO_LONG.fullmatch(message):
        return _("Use at most %(count)s characters.", count=match[1])
    return friendly(message)


def form_errors(errors: dict) -> dict[str, list[str]]:
    """{field: [messages]} from a schema or the service, the messages in the reader's language."""
    flat: dict[str, list[str]] = {}
    for name, messages in (errors or {}).items():
        key = "_form" if name == "_schema" else name
        items = messages if isinstance(messages, list | tuple) else [messages]
        flat.setdefault(key, []).extend(_friendly(str(m)) for m in items)
    return flat
