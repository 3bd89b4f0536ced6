"""`/api/v1/clients/<id>/service-referrals`, `/api/v1/service-referrals/...` and their messages."""
from flask import jsonify
from flask_login import current_user

from hub.api import api_blueprint, json_ready, paginate
from hub.audit.service import record_listing
from hub.auth.permissions import Permission, secured
from hub.clock import utcnow
from hub.extensions import db
from hub.referrals import service_referrals as service
from hub.referrals.service_referral_schemas import (
    EventCreateSchema,
    EventSchema,
    MessageCreateSchema,
    MessageListSchema,
    MessageSchema,
    ServiceReferralCreateSchema,
    ServiceReferralDetailSchema,
    ServiceReferralListArgs,
    ServiceReferralPageSchema,
)

blp = api_blueprint("service_referrals_api", __name__, "Referring on to partners: status and messages.")


@blp.post("/clients/<int:client_id>/service-referrals")
@blp.arguments(ServiceReferralCreateSchema)
@blp.response(201, ServiceReferralDetailSchema)
@blp.alt_response(403, description="consent_required: the client did not consent to this partner and domain")
@blp.alt_response(404, description="No such client for your programme")
@blp.alt_response(409, description="An open referral to this partner for this domain exists")
@blp.alt_response(422, description="Not a partner, or the partner does not serve the domain")
@secured(blp, Permission.SERVICE_REFERRAL_CREATE)
def create(data, client_id):
    """Refer the client to a partner for one life domain, within the client's consent."""
    now = utcnow()
    referral = service.refer(current_user, client_id, data["organisation_id"], data["domain"], data["note"], now,
                             urgent=data["urgent"])
    return service.detail(current_user, referral, now)


@blp.get("/service-referrals")
@blp.arguments(ServiceReferralListArgs, location="query")
@blp.response(200, ServiceReferralPageSchema)
@secured(blp, Permission.SERVICE_REFERRAL_READ)
def list_referrals(args):
    """The partner's inbox, or the coach's overview of the programme's referrals (newest first).
    One audit event per page, naming the referrals (and their clients) shown."""
    now = utcnow()
    query = service.referrals_query(current_user, status=args.get("status"),
                                    organisation_id=args.get("organisation_id"), client_id=args.get("client_id"),
                                    open_only=args["open"])
    page = paginate(query, args["page"], args["per_page"], db.session)
    record_listing("referrals:service_referrals:listed", page, object_type="service_referral",
                   filters={name: args.get(name) for name in ("status", "organisation_id", "client_id", "open")})
    page["items"] = [json_ready(service.summary(r, now)) for r in page["items"]]
    return jsonify(page)  # as ServiceReferralPageSchema would dump it (json_ready); documented by it


@blp.get("/service-referrals/<int:referral_id>")
@blp.response(200, ServiceReferralDetailSchema)
@blp.alt_response(404, description="No such referral for your organisation")
@secured(blp, Permission.SERVICE_REFERRAL_READ)
def get_referral(referral_id):
    """The referral; a partner sees only the consented part of the client's story."""
    now = utcnow()
    return service.detail(current_user, service.referral_for(current_user, referral_id), now)


@blp.post("/service-referrals/<int:referral_id>/events")
@blp.arguments(EventCreateSchema)
@blp.response(201, EventSchema)
@blp.alt_response(404, description="No such referral for your organisation")
@blp.alt_response(409, description="invalid_transition: not allowed from this status for your role")
@blp.alt_response(422, description="occurred_at in the future or before the current status; missing reason")
@secured(blp, Permission.SERVICE_REFERRAL_UPDATE)
def add_event(data, referral_id):
    """Report progress (partner) or cancel, hold and resume (coach)."""
    referral = service.referral_for(current_user, referral_id)
    return service.record_event(current_user, referral, data["status"], utcnow(), occurred_at=data["occurred_at"],
                                note=data["note"], reason=data["reason"])


@blp.get("/service-referrals/<int:referral_id>/messages")
@blp.response(200, MessageListSchema)
@blp.alt_response(403, description="consent_required: the client's consent to your organisation ended")
@blp.alt_response(404, description="No such referral for your organisation")
@secured(blp, Permission.SERVICE_REFERRAL_READ)
def list_messages(referral_id):
    """The thread, oldest first; reading it marks the other side's messages as read."""
    referral = service.referral_for(current_user, referral_id)
    return {"items": service.thread(current_user, referral, utcnow())}


@blp.post("/service-referrals/<int:referral_id>/messages")
@blp.arguments(MessageCreateSchema)
@blp.response(201, MessageSchema)
@blp.alt_response(403, description="consent_required: the client's consent to your organisation ended")
@blp.alt_response(404, description="No such referral for your organisation")
@secured(blp, Permission.SERVICE_REFERRAL_READ)
def post_message(data, referral_id):
    """Write to the other side of the referral."""
    referral = service.referral_for(current_user, referral_id)
    return service.post_message(current_user, referral, data["body"], utcnow())
