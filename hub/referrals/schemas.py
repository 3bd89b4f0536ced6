"""What the handoff and client API accept and answer, per audience."""
from datetime import date

from marshmallow import Schema, fields, validate

from hub.api import PageArgsSchema, PageSchema
from hub.clock import utcnow
from hub.consent.schemas import ConsentGivenSchema
from hub.referrals.models import HandoffStatus
from hub.referrals.trajectory_schemas import TrajectorySchema
from hub.vocab import Gender, LegalStatus, LifeDomain, TargetGroup, Urgency

SCORE = fields.Integer(validate=validate.Range(min=1, max=10), allow_none=True, load_default=None)
MUNICIPALITY = fields.String(validate=validate.Length(max=100), allow_none=True, load_default=None)


class ClientInSchema(Schema):
    alias = fields.String(required=True, validate=validate.Length(min=1, max=100))
    gender = fields.Enum(Gender, by_value=True, required=True)
    birth_year = fields.Integer(validate=validate.Range(min=1900, max=date.today().year), allow_none=True,
                                load_default=None)
    languages = fields.List(fields.String(validate=validate.Length(min=2, max=35)), load_default=list,
                            validate=validate.Length(max=10))
    municipality_of_residence = MUNICIPALITY
    municipality_of_work = MUNICIPALITY
    legal_status = fields.Enum(LegalStatus, by_value=True, required=True)
    target_groups = fields.List(fields.Enum(TargetGroup, by_value=True), load_default=list)


class SafeContactSchema(Schema):
    channel = fields.String(validate=validate.Length(max=200), allow_none=True, load_default=None,
                            metadata={"description": "e.g. WhatsApp via the outreach worker's phone"})
    times = fields.String(validate=validate.Length(max=200), allow_none=True, load_default=None)
    never_call = fields.Boolean(load_default=False)
    code_word = fields.String(validate=validate.Length(max=100), allow_none=True, load_default=None)
    no_letters_home = fields.Boolean(load_default=False)


class StoryDomainInSchema(Schema):
    domain = fields.Enum(LifeDomain, by_value=True, required=True)
    score = SCORE
    wish = SCORE
    notes = fields.String(validate=validate.Length(max=5000), allow_none=True, load_default=None)


class StoryInSchema(Schema):
    summary = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    domains = fields.List(fields.Nested(StoryDomainInSchema), load_default=list,
                          validate=validate.Length(max=len(LifeDomain)))


class HandoffCreateSchema(Schema):
    to_organisation_id = fields.Integer(required=True, validate=validate.Range(min=1))
    urgency = fields.Enum(Urgency, by_value=True, load_default=Urgency.NORMAL)
    client = fields.Nested(ClientInSchema, required=True)
    safe_contact = fields.Nested(SafeContactSchema, load_default=None, allow_none=True)
    safety_concerns = fields.String(validate=validate.Length(max=5000), allow_none=True, load_default=None)
    consent = fields.Nested(ConsentGivenSchema, required=True)
    story = fields.Nested(StoryInSchema, required=True)


class HandoffStatusSchema(Schema):
    """What a referrer sees of its handoff: its status, never the story."""

    id = fields.Integer(required=True)
    client_id = fields.Integer(required=True)
    status = fields.Enum(HandoffStatus, by_value=True, required=True)
    to_organisation_id = fields.Integer(required=True)
    from_organisation_id = fields.Integer(required=True)
    urgency = fields.Enum(Urgency, by_value=True, required=True)
    submitted_at = fields.DateTime(required=True)
    accepted_at = fields.DateTime(allow_none=True)
    first_contact_on = fields.DateTime(allow_none=True)
    declined_at = fields.DateTime(allow_none=True)
    decline_reason = fields.String(allow_none=True)


class HandoffCoachSchema(HandoffStatusSchema):
    """What the receiving programme's coach sees in the intake queue."""

    coach_id = fields.Integer(allow_none=True)
    backup_coach_id = fields.Integer(allow_none=True)
    consent_id = fields.Integer(required=True)
    days_waiting = fields.Method("waited", metadata={"description": "Days from handoff until accepted, "
                                                                    "declined, or now"})

    def waited(self, handoff) -> int:
        end = handoff.accepted_at or handoff.declined_at or utcnow()
        return (end - handoff.submitted_at).days


class HandoffCreatedSchema(Schema):
    id = fields.Integer(required=True)
    client_id = fields.Integer(required=True)
    status = fields.Enum(HandoffStatus, by_value=True, required=True)


class HandoffPageSchema(PageSchema):
    items = fields.List(fields.Nested(HandoffCoachSchema), required=True,
                        metadata={"description": "Referrers get the status fields only"})


class HandoffStatusPageSchema(PageSchema):
    """A referrer's page of its own handoffs."""

    items = fields.List(fields.Nested(HandoffStatusSchema), required=True)


class HandoffListArgs(PageArgsSchema):
    status = fields.Enum(HandoffStatus, by_value=True)


class AcceptSchema(Schema):
    coach_id = fields.Integer(validate=validate.Range(min=1), load_default=None, allow_none=True)
    backup_coach_id = fields.Integer(validate=validate.Range(min=1), load_default=None, allow_none=True)


class DeclineSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class FirstContactSchema(Schema):
    on = fields.AwareDateTime(required=True)


class StoryDomainOutSchema(Schema):
    domain = fields.Enum(LifeDomain, by_value=True, required=True)
    score = fields.Integer(allow_none=True)
    wish = fields.Integer(allow_none=True)
    notes = fields.String(allow_none=True)


class DossierSchema(Schema):
    id = fields.Integer(required=True)
    alias = fields.String(required=True)
    gender = fields.Enum(Gender, by_value=True, required=True)
    birth_year = fields.Integer(allow_none=True)
    languages = fields.List(fields.String())
    municipality_of_residence = fields.String(allow_none=True)
    municipality_of_work = fields.String(allow_none=True)
    legal_status = fields.Enum(LegalStatus, by_value=True, required=True)
    target_groups = fields.List(fields.String())
    programme_id = fields.Integer(required=True)
    safe_contact = fields.Nested(SafeContactSchema, allow_none=True)
    story = fields.Nested(Schema.from_dict({
        "summary": fields.String(allow_none=True),
        "domains": fields.List(fields.Nested(StoryDomainOutSchema)),
    }, name="DossierStory"))
    handoff = fields.Nested(HandoffStatusSchema, allow_none=True)
    trajectories = fields.List(fields.Nested(TrajectorySchema), metadata={
        "description": "The trajectories, newest first: phases with their history, the plan, the outcome"})
    withheld = fields.List(fields.String(), metadata={"description": "Parts the consent does not cover"})
