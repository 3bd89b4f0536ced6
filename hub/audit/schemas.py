"""Filters of the audit log page."""
from marshmallow import Schema, fields, validate

from hub.audit.models import AuditAction, AuditResult


class AuditFilterSchema(Schema):
    user_id = fields.Integer(validate=validate.Range(min=1))
    organisation_id = fields.Integer(validate=validate.Range(min=1))
    client_id = fields.Integer(validate=validate.Range(min=1))
    tag = fields.String(validate=validate.Length(min=1, max=80))
    action = fields.Enum(AuditAction, by_value=True)
    result = fields.Enum(AuditResult, by_value=True)
    since = fields.Date()
    until = fields.Date()
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
