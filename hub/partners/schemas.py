"""What the organisation and directory API and forms accept and answer."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from hub.api import PageArgsSchema, PageSchema
from hub.partners.entries import CONTROL, CONTROL_BUT_NEWLINES, MAX_AGE, MAX_CAPACITY, MAX_WAIT_DAYS
from hub.partners.models import ContactPosition, ServiceStatus
from hub.vocab import Gender, LegalStatus, LifeDomain, OrganisationKind


def _plain(pattern):
    """Refuse text with control characters (PostgreSQL cannot even store NUL)."""
    def check(value: str) -> None:
        if pattern.search(value):
            raise ValidationError("Remove the control characters.")
    return check


def text(max_length: int, min_length: int = 0, *, multiline: bool = False, **kwargs) -> fields.String:
    return fields.String(validate=[validate.Length(min=min_length, max=max_length),
                                   _plain(CONTROL_BUT_NEWLINES if multiline else CONTROL)], **kwargs)


LANGUAGE_CODE = fields.String(validate=[validate.Regexp(r"^[a-z]{2,3}$", error="Use a language code such as nl, "
                                                                               "en, ro, bg."), _plain(CONTROL)])


def _domains(description: str):
    return fields.List(fields.Enum(LifeDomain, by_value=True), required=True, metadata={"description": description})


# --- answers ---------------------------------------------------------------------------------------

class MeasuredWaitingMixin(Schema):
    measured_median_wait_days = fields.Float(
        required=True, allow_none=True,
        metadata={"description": "Median days from request to start of the hub's own service referrals over the "
                                 "last 12 months; null while there are no measurements"})
    measured_waiting_now = fields.Integer(
        required=True, allow_none=True,
        metadata={"description": "Clients referred through the hub and not yet started; null without measurements"})
    measurements = fields.String(required=True, validate=validate.OneOf(["none_yet", "measured"]),
                                 metadata={"description": '"none_yet" until the hub has measured waiting here'})


class OrganisationSchema(MeasuredWaitingMixin):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.Enum(OrganisationKind, by_value=True, required=True)
    municipality = fields.String(required=True)
    domains = _domains("Life domains served: the union of its active services' domains once it has services, "
                       "the kind's defaults until then")
    assured_at = fields.DateTime(required=True, metadata={"description": "When the entry was last confirmed"})
    stale = fields.Boolean(required=True, metadata={"description": "Not confirmed for 90 days (partner kinds)"})
    has_services = fields.Boolean(required=True, metadata={"description": "Whether the entry lists services"})


class OrganisationPageSchema(PageSchema):
    items = fields.List(fields.Nested(OrganisationSchema), required=True)


class ServiceSchema(Schema):
    id = fields.Integer(required=True)
    organisation_id = fields.Integer(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True)
    status = fields.Enum(ServiceStatus, by_value=True, required=True)
    domains = _domains("Life domains this service covers")
    municipalities = fields.List(fields.String(), required=True,
                                 metadata={"description": "Municipalities whose residents it serves"})
    genders = fields.List(fields.Enum(Gender, by_value=True), required=True,
                          metadata={"description": "Genders served; empty: no restriction stated"})
    age_min = fields.Integer(required=True, allow_none=True)
    age_max = fields.Integer(required=True, allow_none=True)
    legal_positions = fields.List(fields.Enum(LegalStatus, by_value=True), required=True,
                                  metadata={"description": "Legal positions accepted; empty: no restriction stated"})
    accepts_active_addiction = fields.Boolean(required=True, allow_none=True,
                                              metadata={"description": "null: not stated"})
    languages = fields.List(fields.String(), required=True,
                            metadata={"description": "Languages spoken (ISO 639 codes); empty: not stated"})
    required_documents = fields.List(fields.String(), required=True,
                                     metadata={"description": "What the client must bring"})
    declared_capacity = fields.Integer(required=True, allow_none=True,
                                       metadata={"description": "Places, as the partner declares them"})
    expected_wait_days = fields.Integer(required=True, allow_none=True,
                                        metadata={"description": "Expected wait in days, as the partner declares it"})
    assured_date = fields.Date(required=True, metadata={"description": "When these details were last confirmed"})


class ContactSchema(Schema):
    position = fields.Enum(ContactPosition, by_value=True, required=True)
    name = fields.String(required=True)
    role = fields.String(required=True, metadata={"description": "Job title"})
    phone = fields.String(required=True)
    email = fields.String(required=True)
    how_to_reach = fields.String(required=True)


class OrganisationDetailSchema(OrganisationSchema):
    services = fields.List(fields.Nested(ServiceSchema), required=True)
    contacts = fields.List(fields.Nested(ContactSchema), required=True,
                           metadata={"description": "The fixed contact person, then the backup (if named)"})
    stale_since = fields.DateTime(required=True, allow_none=True)


class ReasonSchema(Schema):
    code = fields.String(required=True, metadata={
        "description": "municipality, legal_position, gender, age, languages, active_addiction or inactive"})
    message = fields.String(required=True, metadata={"description": "In the reader's language"})


class ServiceFitSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    domains = _domains("Life domains this service covers")
    declared_capacity = fields.Integer(required=True, allow_none=True)
    expected_wait_days = fields.Integer(required=True, allow_none=True)
    fit = fields.Boolean(required=True)
    why_not = fields.List(fields.Nested(ReasonSchema), required=True)


class SearchResultSchema(OrganisationSchema):
    fit = fields.Boolean(required=True, metadata={"description": "At least one relevant service fits the client"})
    why_not = fields.List(fields.Nested(ReasonSchema), required=True,
                          metadata={"description": "Why no service fits (empty when it fits)"})
    eligibility_stated = fields.Boolean(required=True, metadata={
        "description": "False when the entry has no services yet: judged on its kind's defaults"})
    services = fields.List(fields.Nested(ServiceFitSchema), required=True,
                           metadata={"description": "Its active services in the life domain asked for"})


class SearchPageSchema(PageSchema):
    items = fields.List(fields.Nested(SearchResultSchema), required=True)


# --- arguments -------------------------------------------------------------------------------------

class OrganisationFilterSchema(PageArgsSchema):
    kind = fields.Enum(OrganisationKind, by_value=True)
    domain = fields.Enum(LifeDomain, by_value=True)
    municipality = text(100, 1, metadata={"description": "Where the organisation is seated"})
    name = text(200, 1)


class SearchArgsSchema(PageArgsSchema):
    domain = fields.Enum(LifeDomain, by_value=True, metadata={"description": "The life domain help is needed in"})
    kind = fields.Enum(OrganisationKind, by_value=True)
    municipality = text(100, 1, metadata={"description": "Where the client lives: partners seated there or "
                                                          "with a service serving it"})
    legal_position = fields.Enum(LegalStatus, by_value=True)
    gender = fields.Enum(Gender, by_value=True)
    age = fields.Integer(validate=validate.Range(min=0, max=MAX_AGE))
    language = fields.List(LANGUAGE_CODE, data_key="language",
                           metadata={"description": "Languages the client speaks (repeat for several); a service "
                                                    "fits if it speaks one of them"})
    active_addiction = fields.Boolean(metadata={"description": "The client has an active addiction"})
    name = text(200, 1)
    fit_only = fields.Boolean(load_default=False, metadata={"description": "Leave out partners that do not fit"})


class OrganisationCreateForm(Schema):
    name = text(200, 1, required=True)
    kind = fields.Enum(OrganisationKind, by_value=True, required=True)
    municipality = text(100, 1, required=True)


class ServiceWriteSchema(Schema):
    name = text(200, 1, required=True)
    description = text(2000, multiline=True)
    status = fields.Enum(ServiceStatus, by_value=True)
    domains = fields.List(fields.Enum(LifeDomain, by_value=True), required=True, validate=validate.Length(min=1))
    municipalities = fields.List(text(100, 1),
                                 validate=validate.Length(min=1, max=100),
                                 metadata={"description": "Default: the organisation's own municipality"})
    genders = fields.List(fields.Enum(Gender, by_value=True))
    age_min = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=MAX_AGE))
    age_max = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=MAX_AGE))
    legal_positions = fields.List(fields.Enum(LegalStatus, by_value=True))
    accepts_active_addiction = fields.Boolean(allow_none=True)
    languages = fields.List(LANGUAGE_CODE)
    required_documents = fields.List(text(200, 1),
                                     validate=validate.Length(max=20))
    declared_capacity = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=MAX_CAPACITY))
    expected_wait_days = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=MAX_WAIT_DAYS))

    @validates_schema
    def age_range(self, data, **_kwargs):
        low, high = data.get("age_min"), data.get("age_max")
        if low is not None and high is not None and low > high:
            raise ValidationError("The upper age is below the lower age.", "age_max")


class ServicePatchSchema(ServiceWriteSchema):
    """The fields to change; the others stay as they are."""

    def __init__(self, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(**kwargs)


class ContactWriteSchema(Schema):
    name = text(200, 1, required=True)
    role = text(200)
    phone = text(40)
    email = text(254)
    how_to_reach = text(500, metadata={"description": "e.g. weekdays 9-17, text first"})


class ContactsWriteSchema(Schema):
    primary = fields.Nested(ContactWriteSchema, required=True, metadata={"description": "The fixed contact person"})
    backup = fields.Nested(ContactWriteSchema, allow_none=True, metadata={"description": "The backup (achtervang)"})
