"""What the client-rights API takes and answers."""
from marshmallow import Schema, fields, validate

from hub.api import PageArgsSchema, PageSchema
from hub.referrals.trajectory_schemas import CloseSchema
from hub.rights.service import REASON_MAX

LANG = fields.String(load_default=None, validate=validate.OneOf(["nl", "en"]),
                     metadata={"description": "Language of the texts (default: Accept-Language, else Dutch)."})


class RightsReasonSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=REASON_MAX))


class ErasureClosingSchema(CloseSchema):
    """How the trajectory ended, as its own close route takes it, without a note: erasing would erase it."""

    class Meta:
        exclude = ("note",)


class ErasureSchema(RightsReasonSchema):
    close_trajectory = fields.Nested(
        ErasureClosingSchema, load_default=None, allow_none=True,
        metadata={"description": "How the client's open trajectory ended: it is closed with the erasure, on the "
                                 "erasure's ground (no handoff consent needed). Without it, an open trajectory "
                                 "is refused with `trajectory_open`."})


class RightsLangArgs(Schema):
    lang = LANG


class ReadLogArgs(PageArgsSchema):
    lang = LANG


class ReadLogOrganisationSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(allow_none=True)


class ReadLogGroundSchema(Schema):
    kind = fields.String(required=True, metadata={
        "description": "consent, role, request, retention or none; refused for an attempt that was not allowed"})
    consent_id = fields.Integer(allow_none=True)
    text = fields.String(required=True)


class ReadLogEntrySchema(Schema):
    occurred_at = fields.String(required=True, metadata={"description": "ISO 8601 with zone"})
    organisation = fields.Nested(ReadLogOrganisationSchema, allow_none=True)
    role = fields.String(allow_none=True)
    part = fields.String(required=True)
    action = fields.String(required=True)
    result = fields.String(required=True)
    ground = fields.Nested(ReadLogGroundSchema, required=True)
    who = fields.String(required=True)
    text = fields.String(required=True, metadata={"description": "The entry in one plain sentence"})


class ReadLogPageSchema(PageSchema):
    items = fields.List(fields.Nested(ReadLogEntrySchema), required=True)


class ClientExportSchema(Schema):
    generated_at = fields.String(required=True)
    client = fields.Dict(required=True)
    story_domains = fields.List(fields.Dict(), required=True)
    handoffs = fields.List(fields.Dict(), required=True)
    consents = fields.List(fields.Dict(), required=True)
    trajectories = fields.List(fields.Dict(), required=True)
    service_referrals = fields.List(fields.Dict(), required=True)
    escalations = fields.List(fields.Dict(), required=True)
    erasure_requests = fields.List(fields.Dict(), required=True)
    read_log = fields.List(fields.Nested(ReadLogEntrySchema), required=True)


class ErasureRequestSchema(Schema):
    id = fields.Integer(required=True)
    client_id = fields.Integer(required=True)
    status = fields.String(required=True)
    requested_at = fields.DateTime(required=True)
    carried_out_at = fields.DateTime(allow_none=True)


class RightsStatusSchema(Schema):
    client_id = fields.Integer(required=True)
    anonymised_at = fields.DateTime(allow_none=True)
    legal_hold = fields.Boolean(required=True)
    legal_hold_since = fields.DateTime(allow_none=True)
    legal_hold_reason = fields.String(allow_none=True)
    open_trajectory_since = fields.Date(allow_none=True, metadata={
        "description": "When the client's open trajectory began; an erasure must say how it ended"})
    erasure_requests = fields.List(fields.Nested(ErasureRequestSchema), required=True)
