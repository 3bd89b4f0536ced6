"""Organisations in the web interface: the list for everyone, registration for admins."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import EXCLUDE

from hub.api import paginate
from hub.auth.permissions import Permission, require
from hub.clock import utcnow
from hub.errors import HubError
from hub.extensions import db
from hub.forms import load_form
from hub.labels import domain_label, kind_label
from hub.partners.schemas import OrganisationCreateForm, OrganisationFilterSchema
from hub.partners.service import create_organisation, organisations_query
from hub.vocab import LifeDomain, OrganisationKind

bp = Blueprint("partners", __name__, template_folder="templates")


@bp.get("/organisations")
@login_required
@require(Permission.ORGANISATION_READ)
def organisations():
    raw = {k: v for k, v in request.args.items() if v != ""}
    errors = OrganisationFilterSchema().validate(raw)
    args = {} if errors else OrganisationFilterSchema().load(raw, unknown=EXCLUDE)
    page, per_page = args.pop("page", 1), args.pop("per_page", 25)
    listing = paginate(organisations_query(**args), page, per_page, db.session)
    return render_template("partners/organisations.html", listing=listing, filters=raw, errors=errors, now=utcnow(),
                           kind_options=_kind_options(),
                           domain_options=[(d.value, domain_label(d)) for d in LifeDomain])


@bp.route("/organisations/new", methods=["GET", "POST"])
@login_required
@require(Permission.ORGANISATION_MANAGE)
def new_organisation():
    errors: dict = {}
    if request.method == "POST":
        data, errors = load_form(OrganisationCreateForm)
        if data:
            try:
                organisation = create_organisation(actor=current_user, **data)
            except HubError as error:
                errors = error.fields or {"name": [error.message]}
            else:
                flash(_("%(name)s is registered.", name=organisation.name), "info")
                return redirect(url_for("partners.organisation", organisation_id=organisation.id))
    return render_template("partners/new_organisation.html", errors=errors, form=request.form,
                           kind_options=_kind_options()), 422 if errors else 200


def _kind_options() -> list[tuple[str, str]]:
    return [(kind.value, kind_label(kind)) for kind in OrganisationKind]


from hub.partners import directory_views  # noqa: E402,F401  (the directory's routes, on this blueprint)
