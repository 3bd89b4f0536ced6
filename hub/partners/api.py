"""`/api/v1/organisations`: the register of organisations, filtered and paginated."""
from flask_login import login_required

from hub.api import api_blueprint, paginate
from hub.auth.permissions import Permission, require
from hub.extensions import db
from hub.partners.schemas import OrganisationFilterSchema, OrganisationPageSchema
from hub.partners.service import organisations_query

blp = api_blueprint("partners_api", __name__, "Organisations: referrers, exit programmes, partners.")


@blp.get("/organisations")
@blp.arguments(OrganisationFilterSchema, location="query")
@blp.response(200, OrganisationPageSchema)
@blp.alt_response(401, description="No valid token")
@blp.doc(security=[{"bearer": []}])
@login_required
@require(Permission.ORGANISATION_READ)
def list_organisations(args):
    """Organisations, filtered by kind, life domain, municipality or name."""
    page, per_page = args.pop("page"), args.pop("per_page")
    return paginate(organisations_query(**args), page, per_page, db.session)
