"""What the organisation API and forms accept and answer."""
from marshmallow import Schema, fields, validate

from hub.api import PageArgsSchema, PageSchema
from hub.vocab import LifeDomain, OrganisationKind


class OrganisationSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.Enum(OrganisationKind, by_value=True, required=True)
    municipality = fields.String(required=True)
    domains = fields.List(fields.Enum(LifeDomain, by_value=True), required=True,
                          metadata={"description": "Life domains served (the kind's defaults until the "
                                                   "directory entry says more)"})


class OrganisationPageSchema(PageSchema):
    items = fields.List(fields.Nested(OrganisationSchema), required=True)


class OrganisationFilterSchema(PageArgsSchema):
    kind = fields.Enum(OrganisationKind, by_value=True)
    domain = fields.Enum(LifeDomain, by_value=True)
    municipality = fields.String(validate=validate.Length(min=1, max=100))
    name = fields.String(validate=validate.Length(min=1, max=200))


class OrganisationCreateForm(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.Enum(OrganisationKind, by_value=True, required=True)
    municipality = fields.String(required=True, validate=validate.Length(min=1, max=100))
