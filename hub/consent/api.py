"""`/api/v1/clients/<id>/consents` and `/api/v1/consents/<id>/withdraw`."""
from flask_login import current_user
from sqlalchemy import select

from hub.api import api_blueprint, paginate
from hub.audit.models import AuditAction
from hub.audit.service import record
from hub.auth.permissions import Permission, secured
from hub.clock import utcnow
from hub.consent import service
from hub.consent.models import Consent
from hub.consent.schemas import ConsentCreateSchema, ConsentListArgs, ConsentPageSchema, ConsentSchema, WithdrawSchema
from hub.extensions import db
from hub.referrals.service import client_coaches, consent_for_coach, programme_client

blp = api_blueprint("consent_api", __name__, "Consent: recorded with proof, scoped, withdrawable.")


@blp.get("/clients/<int:client_id>/consents")
@blp.arguments(ConsentListArgs, location="query")
@blp.response(200, ConsentPageSchema)
@blp.alt_response(404, description="No such client, or not yours to see")
@secured(blp, Permission.CONSENT_MANAGE)
def list_consents(args, client_id):
    """Every consent of the client, newest first, withdrawn ones included."""
    client = programme_client(current_user, client_id)
    query = select(Consent).where(Consent.client_id == client.id).order_by(Consent.id.desc())
    record("consent:consents:read", AuditAction.READ, object_type="client", object_id=client.id,
           client_id=client.id)
    return paginate(query, args["page"], args["per_page"], db.session)


@blp.post("/clients/<int:client_id>/consents")
@blp.arguments(ConsentCreateSchema)
@blp.response(201, ConsentSchema)
@blp.alt_response(404, description="No such client, or not yours to see")
@blp.alt_response(422, description="Unknown recipient, empty or unknown scope, a period that ends before it begins")
@secured(blp, Permission.CONSENT_MANAGE)
def create_consent(data, client_id):
    """Record a consent the client gave: to whom, for what, which parts, until when."""
    client = programme_client(current_user, client_id)
    return service.record_consent(current_user, client_id=client.id, now=utcnow(), **data)


@blp.post("/consents/<int:consent_id>/withdraw")
@blp.arguments(WithdrawSchema)
@blp.response(200, ConsentSchema)
@blp.alt_response(404, description="No such consent, or not yours to manage")
@blp.alt_response(409, description="Already withdrawn")
@secured(blp, Permission.CONSENT_MANAGE)
def withdraw(data, consent_id):
    """Withdraw a consent at once; the recipient loses access from its next request."""
    now = utcnow()
    consent = consent_for_coach(current_user, consent_id)
    return service.withdraw_consent(current_user, consent, data["reason"], now,
                                    coaches=client_coaches(consent.client_id))
