"""What the consent API accepts and answers."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from hub.api import PageArgsSchema, PageSchema
from hub.vocab import SCOPE_ITEMS, ConsentMethod, ConsentPurpose

SCOPE_ITEM = fields.String(validate=validate.OneOf(SCOPE_ITEMS, error="Unknown scope item: {input}."))
STATEMENT = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class ConsentGivenSchema(Schema):
    """The consent the client gives at handoff (its recipient and purpose follow from the handoff)."""

    method = fields.Enum(ConsentMethod, by_value=True, required=True)
    statement = STATEMENT
    scope = fields.List(SCOPE_ITEM, required=True, validate=validate.Length(min=1, error="Choose at least one."))
    valid_until = fields.AwareDateTime(load_default=None, allow_none=True)


class ConsentCreateSchema(ConsentGivenSchema):
    recipient_organisation_id = fields.Integer(required=True, validate=validate.Range(min=1))
    purpose = fields.Enum(ConsentPurpose, by_value=True, required=True)
    valid_from = fields.AwareDateTime(load_default=None, allow_none=True)

    @validates_schema
    def period_makes_sense(self, data, **kwargs):
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end <= start:
            raise ValidationError("The consent must end after it begins.", field_name="valid_until")


class WithdrawSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class ConsentSchema(Schema):
    id = fields.Integer(required=True)
    client_id = fields.Integer(required=True)
    recipient_organisation_id = fields.Integer(required=True)
    recipient_name = fields.Function(lambda c: c.recipient.name)
    purpose = fields.Enum(ConsentPurpose, by_value=True, required=True)
    scope = fields.List(fields.String(), required=True)
    method = fields.Enum(ConsentMethod, by_value=True, required=True)
    statement = fields.String(required=True)
    statement_hash = fields.String(required=True)
    recorded_by_id = fields.Integer(required=True)
    recorded_by_organisation_id = fields.Integer(required=True)
    recorded_at = fields.DateTime(required=True)
    valid_from = fields.DateTime(required=True)
    valid_until = fields.DateTime(allow_none=True)
    withdrawn_at = fields.DateTime(allow_none=True)
    withdrawn_by_id = fields.Integer(allow_none=True)
    withdrawal_reason = fields.String(allow_none=True)


class ConsentPageSchema(PageSchema):
    items = fields.List(fields.Nested(ConsentSchema), required=True)


class ConsentListArgs(PageArgsSchema):
    pass
