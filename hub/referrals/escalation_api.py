"""`GET /api/v1/escalations`: stalled referrals, for the people who must act on them."""
from flask_login import current_user
from marshmallow import Schema, fields
from sqlalchemy import func, select

from hub.api import PageArgsSchema, PageSchema, api_blueprint, paginate
from hub.audit.service import record_listing
from hub.auth.permissions import Permission, secured
from hub.extensions import db
from hub.partners.models import Organisation
from hub.referrals.service_referral_models import Escalation, EscalationState, ServiceReferral, Status
from hub.vocab import LifeDomain, Role

blp = api_blueprint("escalations_api", __name__, "Escalations of stalled referrals.")


class EscalationArgs(PageArgsSchema):
    state = fields.Enum(EscalationState, by_value=True)


class EscalationSchema(Schema):
    id = fields.Integer(required=True)
    service_referral_id = fields.Integer(required=True)
    level = fields.Integer(required=True)
    state = fields.Enum(EscalationState, by_value=True, required=True)
    status = fields.Enum(Status, by_value=True, required=True, metadata={"description": "The status that stalled"})
    raised_at = fields.DateTime(required=True)
    resolved_at = fields.DateTime(allow_none=True)
    resolution_hours = fields.Float(allow_none=True)
    organisation_id = fields.Function(lambda e: e.referral.organisation_id)
    domain = fields.Function(lambda e: LifeDomain(e.referral.domain).value)


class EscalationPageSchema(PageSchema):
    items = fields.List(fields.Nested(EscalationSchema), required=True)


def escalations_query(user, state: EscalationState | None):
    """Coaches: their programme's referrals; partners: their own organisation's; chain directors:
    level 3 for partners in their municipality. Newest first."""
    query = select(Escalation).join(ServiceReferral, ServiceReferral.id == Escalation.service_referral_id)
    if user.role == Role.COACH:
        query = query.where(ServiceReferral.programme_id == user.organisation_id)
    elif user.role == Role.PARTNER:
        query = query.where(ServiceReferral.organisation_id == user.organisation_id)
    else:
        query = query.join(Organisation, Organisation.id == ServiceReferral.organisation_id).where(
            Escalation.level == 3,
            func.lower(Organisation.municipality) == user.organisation.municipality.lower())
    if state is not None:
        query = query.where(Escalation.state == state)
    return query.order_by(Escalation.raised_at.desc(), Escalation.id.desc())


@blp.get("/escalations")
@blp.arguments(EscalationArgs, location="query")
@blp.response(200, EscalationPageSchema)
@secured(blp, Permission.ESCALATION_READ)
def list_escalations(args):
    """Escalations you must act on or know of, filtered by `state` (open, resolved). One audit event
    per page, naming the escalations (and their clients) shown."""
    page = paginate(escalations_query(current_user, args.get("state")), args["page"], args["per_page"], db.session)
    record_listing("referrals:escalations:listed", page, object_type="escalation", filters={"state": args.get("state")})
    return page
