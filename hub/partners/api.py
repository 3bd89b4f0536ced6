"""`/api/v1/organisations` and the directory: the register, each entry with its services and fixed
contacts, the search for a client with its "why not" reasons, and keeping one's own entry current."""
from flask_babel import gettext as _
from flask_login import current_user

from hub.api import api_blueprint, paginate
from hub.auth.permissions import Permission, secured
from hub.clock import utcnow
from hub.errors import NotFound
from hub.extensions import db
from hub.partners.entries import (
    confirm_entry,
    create_service,
    find,
    organisation_for_edit,
    service_for_edit,
    set_contacts,
    update_service,
)
from hub.partners.models import Organisation
from hub.partners.schemas import (
    ContactsWriteSchema,
    OrganisationCreateForm,
    OrganisationDetailSchema,
    OrganisationFilterSchema,
    OrganisationPageSchema,
    SearchArgsSchema,
    SearchPageSchema,
    ServicePatchSchema,
    ServiceSchema,
    ServiceWriteSchema,
)
from hub.partners.search import Criteria, search
from hub.partners.service import create_organisation, entry_detail, organisations_query, summarise

blp = api_blueprint("partners_api", __name__, "Organisations and the directory (sociale kaart): services, "
                                              "fixed contacts, measured waiting, search.")

@blp.get("/organisations")
@blp.arguments(OrganisationFilterSchema, location="query")
@blp.response(200, OrganisationPageSchema)
@blp.alt_response(401, description="No valid token")
@secured(blp, Permission.ORGANISATION_READ)
def list_organisations(args):
    """Organisations, filtered by kind, life domain, municipality (seat) or name, with measured waiting."""
    page, per_page = args.pop("page"), args.pop("per_page")
    listing = paginate(organisations_query(**args), page, per_page, db.session)
    return {**listing, "items": summarise(listing["items"], utcnow())}


@blp.post("/organisations")
@blp.arguments(OrganisationCreateForm)
@blp.response(201, OrganisationDetailSchema)
@blp.alt_response(403, description="Only admins register organisations")
@blp.alt_response(409, description="Already registered in that municipality")
@secured(blp, Permission.ORGANISATION_MANAGE)
def create(data):
    """Register an organisation (admins). A partner kind serves its default life domains at once."""
    organisation = create_organisation(actor=current_user, **data)
    return entry_detail(organisation, utcnow())


@blp.get("/organisations/<int:organisation_id>")
@blp.response(200, OrganisationDetailSchema)
@blp.alt_response(404, description="No such organisation")
@secured(blp, Permission.ORGANISATION_READ)
def show(organisation_id: int):
    """One directory entry: services, fixed contacts, declared and measured waiting, staleness."""
    organisation = find(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(_("This organisation does not exist."))
    return entry_detail(organisation, utcnow())


@blp.put("/organisations/<int:organisation_id>/contacts")
@blp.arguments(ContactsWriteSchema)
@blp.response(200, OrganisationDetailSchema)
@blp.alt_response(403, description="Not this user's organisation")
@blp.alt_response(404, description="No such organisation")
@secured(blp, Permission.DIRECTORY_EDIT)
def put_contacts(data, organisation_id: int):
    """Name the fixed contact person and the backup (replaces both; leave out `backup` to have none)."""
    organisation = organisation_for_edit(current_user, organisation_id)
    now = utcnow()
    set_contacts(current_user, organisation, data["primary"], data.get("backup"), now)
    return entry_detail(organisation, now)


@blp.post("/organisations/<int:organisation_id>/confirm")
@blp.response(200, OrganisationDetailSchema)
@blp.alt_response(403, description="Not this user's organisation")
@blp.alt_response(404, description="No such organisation")
@secured(blp, Permission.DIRECTORY_EDIT)
def confirm(organisation_id: int):
    """Confirm the entry is current: no longer stale, for another 90 days."""
    organisation = organisation_for_edit(current_user, organisation_id)
    now = utcnow()
    confirm_entry(current_user, organisation, now)
    return entry_detail(organisation, now)


@blp.post("/organisations/<int:organisation_id>/services")
@blp.arguments(ServiceWriteSchema)
@blp.response(201, ServiceSchema)
@blp.alt_response(403, description="Not this user's organisation")
@blp.alt_response(404, description="No such organisation")
@blp.alt_response(409, description="duplicate_service: the organisation has a service by that name")
@secured(blp, Permission.DIRECTORY_EDIT)
def add_service(data, organisation_id: int):
    """Add a service to one's own organisation's entry."""
    organisation = organisation_for_edit(current_user, organisation_id)
    return create_service(current_user, organisation, data, utcnow())


@blp.patch("/services/<int:service_id>")
@blp.arguments(ServicePatchSchema)
@blp.response(200, ServiceSchema)
@blp.alt_response(403, description="Not this user's organisation")
@blp.alt_response(404, description="No such service")
@blp.alt_response(409, description="duplicate_service: the organisation has a service by that name")
@secured(blp, Permission.DIRECTORY_EDIT)
def patch_service(data, service_id: int):
    """Change some fields of a service (e.g. the expected wait, or `status: inactive`)."""
    service = service_for_edit(current_user, service_id)
    return update_service(current_user, service, data, utcnow())


@blp.get("/directory/search")
@blp.arguments(SearchArgsSchema, location="query")
@blp.response(200, SearchPageSchema)
@secured(blp, Permission.ORGANISATION_READ)
def directory_search(args):
    """Partners for a client: narrowed by life domain, kind and municipality; judged on legal position,
    gender, age, languages and an active addiction, with the reasons a partner does not fit. Fitting
    partners first, then by measured waiting, then by name."""
    page, per_page, fit_only = args.pop("page"), args.pop("per_page"), args.pop("fit_only")
    if "language" in args:
        args["languages"] = args.pop("language")
    return search(Criteria.from_args(args), utcnow(), page=page, per_page=per_page, fit_only=fit_only)
