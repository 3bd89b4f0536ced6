"""What the service-referral and message API accept and answer."""
from marshmallow import Schema, fields, validate

from hub.api import PageArgsSchema, PageSchema
from hub.referrals.service_referral_models import HoldReason, RejectReason, Status
from hub.vocab import Gender, LegalStatus, LifeDomain

REASONS = [r.value for r in HoldReason] + [r.value for r in RejectReason]


class ServiceReferralCreateSchema(Schema):
    organisation_id = fields.Integer(required=True, validate=validate.Range(min=1))
    domain = fields.Enum(LifeDomain, by_value=True, required=True)
    note = fields.String(validate=validate.Length(max=5000), allow_none=True, load_default=None,
                         metadata={"description": "For the partner: what the client needs"})
    urgent = fields.Boolean(load_default=False, metadata={
        "description": "An eviction or a cut-off threatens: the shorter norms apply (e.g. debt relief within "
                       "3 working days)"})


class EventCreateSchema(Schema):
    status = fields.Enum(Status, by_value=True, required=True)
    occurred_at = fields.AwareDateTime(load_default=None, allow_none=True,
                                       metadata={"description": "When it happened; default now; never in the future"})
    note = fields.String(validate=validate.Length(max=5000), allow_none=True, load_default=None)
    reason = fields.String(validate=validate.OneOf(REASONS), allow_none=True, load_default=None,
                           metadata={"description": "on_hold: whose turn (client, partner, municipality_decision, "
                                                    "consent); rejected: no_capacity, not_eligible, "
                                                    "client_did_not_come, other"})


class ServiceReferralListArgs(PageArgsSchema):
    status = fields.Enum(Status, by_value=True)
    organisation_id = fields.Integer(validate=validate.Range(min=1))
    client_id = fields.Integer(validate=validate.Range(min=1))
    open = fields.Boolean(load_default=False, metadata={"description": "only open referrals"})


class ServiceReferralSummarySchema(Schema):
    id = fields.Integer(required=True)
    client_id = fields.Integer(required=True)
    organisation_id = fields.Integer(required=True)
    organisation_name = fields.String(required=True)
    programme_id = fields.Integer(required=True)
    domain = fields.Enum(LifeDomain, by_value=True, required=True)
    status = fields.Enum(Status, by_value=True, required=True)
    status_since = fields.DateTime(required=True)
    hold_reason = fields.Enum(HoldReason, by_value=True, allow_none=True)
    reject_reason = fields.Enum(RejectReason, by_value=True, allow_none=True)
    requested_at = fields.DateTime(required=True)
    started_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    days_waiting = fields.Integer(required=True)
    days_in_status = fields.Integer(required=True)
    urgent = fields.Boolean(required=True)
    late = fields.Boolean(required=True)


class ServiceReferralPageSchema(PageSchema):
    items = fields.List(fields.Nested(ServiceReferralSummarySchema), required=True)


class EventSchema(Schema):
    from_status = fields.Enum(Status, by_value=True, allow_none=True)
    to_status = fields.Enum(Status, by_value=True, required=True)
    reason = fields.String(allow_none=True)
    occurred_at = fields.DateTime(required=True)
    recorded_at = fields.DateTime(required=True)
    note = fields.String(allow_none=True)


class PartnerClientSchema(Schema):
    """Only what the client consented to share with the partner for referrals."""

    alias = fields.String(required=True)
    profile_shared = fields.Boolean(required=True, metadata={
        "description": "Whether the consent's scope holds `profile`; without it gender, birth_year, languages "
                       "and legal_status are null"})
    gender = fields.Enum(Gender, by_value=True, allow_none=True)
    birth_year = fields.Integer(allow_none=True)
    languages = fields.List(fields.String(), allow_none=True)
    legal_status = fields.Enum(LegalStatus, by_value=True, allow_none=True)
    safe_contact_rules = fields.Dict(keys=fields.String(), values=fields.Boolean())
    safe_contact = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True), allow_none=True)
    story_summary = fields.String(allow_none=True)
    domains = fields.List(fields.Dict())


class ServiceReferralDetailSchema(ServiceReferralSummarySchema):
    note = fields.String(allow_none=True)
    events = fields.List(fields.Nested(EventSchema), required=True)
    client = fields.Nested(PartnerClientSchema, allow_none=True,
                           metadata={"description": "Partners only; null when the consent no longer holds"})


class MessageCreateSchema(Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=10_000))


class MessageSchema(Schema):
    id = fields.Integer(required=True)
    author_id = fields.Integer(required=True)
    author_organisation_id = fields.Integer(required=True)
    body = fields.String(required=True)
    sent_at = fields.DateTime(required=True)
    read_at = fields.DateTime(allow_none=True)


class MessageListSchema(Schema):
    items = fields.List(fields.Nested(MessageSchema), required=True)
