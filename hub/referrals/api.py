"""`/api/v1/referrals` (the warm handoff) and `/api/v1/clients/<id>` (the dossier)."""
from flask import jsonify
from flask_login import current_user

from hub.api import api_blueprint, paginate
from hub.audit.service import record_listing
from hub.auth.permissions import Permission, secured
from hub.clock import utcnow
from hub.extensions import db
from hub.referrals import service
from hub.referrals.schemas import (
    AcceptSchema,
    DeclineSchema,
    DossierSchema,
    FirstContactSchema,
    HandoffCoachSchema,
    HandoffCreatedSchema,
    HandoffCreateSchema,
    HandoffListArgs,
    HandoffPageSchema,
    HandoffStatusPageSchema,
    HandoffStatusSchema,
)
from hub.vocab import Role

blp = api_blueprint("referrals_api", __name__, "The warm handoff to an exit programme, and the dossier.")


def _for_audience(handoff) -> dict:
    """Referrers see the status of their handoffs; the programme's coaches see the queue fields."""
    schema = HandoffStatusSchema() if current_user.role == Role.REFERRER else HandoffCoachSchema()
    return schema.dump(handoff)


def _audience_response(description: str, coach_schema=HandoffCoachSchema, referrer_schema=HandoffStatusSchema):
    """Document both shapes, the coach's and the referrer's; the view serialises per audience itself
    (`_for_audience`). An empty page fits both shapes, hence anyOf."""
    return blp.alt_response(200, schema={"anyOf": [coach_schema, referrer_schema]}, success=True,
                            description=description + " Referrers get the status fields only.")


@blp.post("/referrals")
@blp.arguments(HandoffCreateSchema)
@blp.response(201, HandoffCreatedSchema)
@blp.alt_response(403, description="Only referrers hand clients over")
@blp.alt_response(422, description="Missing consent or data; the fields are named")
@secured(blp, Permission.HANDOFF_CREATE)
def create_handoff(data):
    """Hand a client over to an exit programme, with the client's consent: all or nothing."""
    return service.submit_handoff(current_user, data, utcnow())


@blp.get("/referrals")
@blp.arguments(HandoffListArgs, location="query")
@_audience_response("A page of handoffs.", HandoffPageSchema, HandoffStatusPageSchema)
@secured(blp, Permission.HANDOFF_READ)
def list_handoffs(args):
    """A referrer's own handoffs, or the programme's intake queue (most urgent, then oldest first).
    One audit event per page, naming the handoffs (and their clients) shown."""
    page = paginate(service.handoffs_query(current_user, args.get("status")), args["page"], args["per_page"],
                    db.session)
    record_listing("referrals:handoffs:listed", page, object_type="handoff", filters={"status": args.get("status")})
    page["items"] = [_for_audience(h) for h in page["items"]]
    return jsonify(page)


@blp.get("/referrals/<int:handoff_id>")
@_audience_response("The handoff.")
@blp.alt_response(404, description="No such handoff, or not yours to see")
@secured(blp, Permission.HANDOFF_READ)
def get_handoff(handoff_id):
    """The handoff's status (referrer) or queue entry (coach of the receiving programme)."""
    return jsonify(_for_audience(service.handoff_for(current_user, handoff_id)))


@blp.post("/referrals/<int:handoff_id>/accept")
@blp.arguments(AcceptSchema)
@blp.response(200, HandoffCoachSchema)
@blp.alt_response(404, description="No such handoff for this programme")
@blp.alt_response(409, description="Not open any more (accepted or declined already)")
@secured(blp, Permission.HANDOFF_DECIDE)
def accept_handoff(data, handoff_id):
    """Accept the handoff: a coach (you, unless named) and optionally a backup coach."""
    handoff = service.handoff_for(current_user, handoff_id)
    return service.accept_handoff(current_user, handoff, utcnow(), **data)


@blp.post("/referrals/<int:handoff_id>/decline")
@blp.arguments(DeclineSchema)
@blp.response(200, HandoffCoachSchema)
@blp.alt_response(404, description="No such handoff for this programme")
@blp.alt_response(409, description="Not open any more")
@secured(blp, Permission.HANDOFF_DECIDE)
def decline_handoff(data, handoff_id):
    """Decline the handoff with a reason; the referrer is told."""
    handoff = service.handoff_for(current_user, handoff_id)
    return service.decline_handoff(current_user, handoff, data["reason"], utcnow())


@blp.post("/referrals/<int:handoff_id>/first-contact")
@blp.arguments(FirstContactSchema)
@blp.response(200, HandoffCoachSchema)
@blp.alt_response(404, description="No such handoff for this programme")
@blp.alt_response(409, description="Not accepted (yet), or first contact already recorded")
@secured(blp, Permission.HANDOFF_DECIDE)
def first_contact(data, handoff_id):
    """Record the date of the first contact with the client."""
    handoff = service.handoff_for(current_user, handoff_id)
    return service.record_first_contact(current_user, handoff, data["on"], utcnow())


@blp.get("/clients/<int:client_id>")
@blp.response(200, DossierSchema)
@blp.alt_response(404, description="No such client, or no role and consent to see it")
@secured(blp, Permission.CLIENT_READ)
def get_client(client_id):
    """The dossier: what the client's consent lets your programme see. Reading it is audited."""
    now = utcnow()
    client, _decision = service.client_for_coach(current_user, client_id, now)
    return service.dossier(current_user, client, now)
