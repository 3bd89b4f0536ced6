"""The directory (sociale kaart) in the web interface: the search for a client, an organisation's
page, and keeping one's own entry current. Thin: parse, call the service, render; never commit."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import EXCLUDE, ValidationError

from hub.auth.permissions import Permission, require
from hub.clock import utcnow
from hub.errors import HubError
from hub.labels import domain_label, kind_label
from hub.partners.entries import (
    SERVICE_FIELDS,
    confirm_entry,
    create_service,
    find,
    may_edit_entry,
    organisation_for_edit,
    own_entry_id,
    service_for_edit,
    set_contacts,
    update_service,
)
from hub.partners.labels import (
    CLIENT_GENDER_LABELS,
    CLIENT_LEGAL_LABELS,
    ELIGIBLE_GENDER_LABELS,
    ELIGIBLE_LEGAL_LABELS,
    SERVICE_STATUS_LABELS,
    directory_label_helpers,
)
from hub.partners.models import ContactPosition, Organisation
from hub.partners.schemas import SearchArgsSchema
from hub.partners.search import Criteria, search
from hub.partners.service import entry_detail
from hub.partners.views import bp
from hub.vocab import LifeDomain, OrganisationKind

INT_FIELDS = ("age_min", "age_max", "declared_capacity", "expected_wait_days")
CONTACT_INPUTS = ("name", "role", "phone", "email", "how_to_reach")


@bp.context_processor
def directory_helpers():
    return {**directory_label_helpers(), "may_edit_entry": may_edit_entry}


for _name, _function in directory_label_helpers().items():
    bp.add_app_template_filter(_function, _name)


@bp.get("/directory")
@login_required
@require(Permission.ORGANISATION_READ)
def directory():
    """Search the sociale kaart for a client."""
    raw = {k: v.strip() for k, v in request.args.items() if v.strip() != ""}
    args = {key: value for key, value in raw.items() if key != "language"}
    if raw.get("language"):
        args["language"] = [code.strip().lower() for code in raw["language"].replace(";", ",").split(",")
                            if code.strip()]
    try:
        loaded = SearchArgsSchema().load(args, unknown=EXCLUDE)
        errors = {}
    except ValidationError as error:
        loaded, errors = SearchArgsSchema().load({}), error.normalized_messages()
    page, per_page, fit_only = loaded.pop("page"), loaded.pop("per_page"), loaded.pop("fit_only")
    if "language" in loaded:
        loaded["languages"] = loaded.pop("language")
    searched = bool(raw) and not errors
    results = search(Criteria.from_args(loaded), utcnow(), page=page, per_page=per_page,
                     fit_only=fit_only) if searched else None
    return render_template("partners/directory.html", results=results, filters=raw, errors=errors,
                           own_entry_id=own_entry_id(current_user), **_options()), 422 if errors else 200


@bp.get("/directory/own")
@login_required
@require(Permission.DIRECTORY_EDIT)
def own_entry():
    """A partner user's own entry."""
    organisation_id = own_entry_id(current_user)
    if organisation_id is None:
        abort(404)
    return redirect(url_for("partners.organisation", organisation_id=organisation_id))


@bp.get("/organisations/<int:organisation_id>")
@login_required
@require(Permission.ORGANISATION_READ)
def organisation(organisation_id: int):
    found = find(Organisation, organisation_id)
    if found is None:
        abort(404)
    return render_template("partners/organisation.html", organisation=found, entry=entry_detail(found, utcnow()),
                           may_edit=may_edit_entry(current_user, found))


@bp.post("/organisations/<int:organisation_id>/confirm")
@login_required
@require(Permission.DIRECTORY_EDIT)
def confirm(organisation_id: int):
    found = organisation_for_edit(current_user, organisation_id)
    confirm_entry(current_user, found, utcnow())
    flash(_("Thank you: the entry of %(name)s is confirmed as current.", name=found.name), "info")
    return redirect(url_for("partners.organisation", organisation_id=found.id))


@bp.route("/organisations/<int:organisation_id>/contacts", methods=["GET", "POST"])
@login_required
@require(Permission.DIRECTORY_EDIT)
def contacts(organisation_id: int):
    found = organisation_for_edit(current_user, organisation_id)
    errors: dict = {}
    form = dict(request.form) if request.method == "POST" else _contact_form(found)
    if request.method == "POST":
        primary = {field: form.get(f"primary.{field}", "") for field in CONTACT_INPUTS}
        backup = {field: form.get(f"backup.{field}", "") for field in CONTACT_INPUTS}
        try:
            set_contacts(current_user, found, primary, backup if any(v.strip() for v in backup.values()) else None,
                         utcnow())
        except HubError as error:
            errors = error.fields or {"primary.name": [error.message]}
        else:
            flash(_("The contact persons are saved."), "info")
            return redirect(url_for("partners.organisation", organisation_id=found.id))
    return render_template("partners/contacts_form.html", organisation=found, form=form,
                           errors=errors), 422 if errors else 200


@bp.route("/organisations/<int:organisation_id>/services/new", methods=["GET", "POST"])
@login_required
@require(Permission.DIRECTORY_EDIT)
def new_service(organisation_id: int):
    found = organisation_for_edit(current_user, organisation_id)
    return _service_page(found, None)


@bp.route("/services/<int:service_id>/edit", methods=["GET", "POST"])
@login_required
@require(Permission.DIRECTORY_EDIT)
def edit_service(service_id: int):
    service = service_for_edit(current_user, service_id)
    return _service_page(service.organisation, service)


def _service_page(organisation: Organisation, service):
    errors: dict = {}
    if request.method == "POST":
        values, errors = _service_form_values()
        if not errors:
            try:
                if service is None:
                    service = create_service(current_user, organisation, values, utcnow())
                else:
                    update_service(current_user, service, values, utcnow())
            except HubError as error:
                errors = error.fields or {"name": [error.message]}
            else:
                flash(_("The service %(name)s is saved.", name=service.name), "info")
                return redirect(url_for("partners.organisation", organisation_id=organisation.id))
        form = request.form
    else:
        form = _service_form(organisation, service)
    return render_template("partners/service_form.html", organisation=organisation, service=service, form=form,
                           errors=errors, **_options()), 422 if errors else 200


def _service_form_values() -> tuple[dict, dict]:
    """The posted service form as the service functions take it: (values, errors of form syntax)."""
    form, errors = request.form, {}
    values: dict = {field: form.getlist(field) for field in ("domains", "genders", "legal_positions")}
    values.update(name=form.get("name", ""), description=form.get("description", ""),
                  status=form.get("status") or "active",
                  municipalities=_split(form.get("municipalities", ""), ","),
                  languages=[code.lower() for code in _split(form.get("languages", ""), ",")],
                  required_documents=_split(form.get("required_documents", ""), "\n"))
    for field in INT_FIELDS:
        text = form.get(field, "").strip()
        try:
            values[field] = int(text) if text else None
        except ValueError:
            errors[field] = [_("A whole number, or leave it empty.")]
    values["accepts_active_addiction"] = {"yes": True, "no": False}.get(form.get("accepts_active_addiction", ""))
    return {k: v for k, v in values.items() if k in SERVICE_FIELDS}, errors


def _split(text: str, separator: str) -> list[str]:
    parts = [part.strip() for part in text.replace("\r", "").split(separator)]
    if separator == ",":  # "Arnhem, , Ede": the empty one is a mistake worth naming
        return parts if any(parts) else []
    return [part for part in parts if part]


def _service_form(organisation: Organisation, service) -> dict:
    """What the service form shows before anything is posted."""
    if service is None:
        return _MultiDict({"municipalities": organisation.municipality, "status": "active"}, {})
    addiction = {True: "yes", False: "no"}.get(service.accepts_active_addiction, "")
    return _MultiDict({
        "name": service.name, "description": service.description, "status": service.status.value,
        "municipalities": ", ".join(service.municipalities), "languages": ", ".join(service.languages),
        "required_documents": "\n".join(service.required_documents), "accepts_active_addiction": addiction,
        **{field: "" if getattr(service, field) is None else str(getattr(service, field)) for field in INT_FIELDS},
    }, {"domains": [d.value for d in service.domains], "genders": list(service.genders),
        "legal_positions": list(service.legal_positions)})


class _MultiDict(dict):
    """A dict with `getlist`, like a posted form, for the form's first showing."""

    def __init__(self, single: dict, lists: dict):
        super().__init__(single)
        self._lists = lists

    def getlist(self, key: str) -> list:
        return self._lists.get(key, [])


def _contact_form(organisation: Organisation) -> dict:
    form = {}
    for position in ContactPosition:
        contact = organisation.contact(position)
        for field in CONTACT_INPUTS:
            form[f"{position.value}.{field}"] = getattr(contact, field) if contact else ""
    return form


def _options() -> dict:
    return {
        "domain_options": [(d.value, domain_label(d)) for d in LifeDomain],
        "kind_options": [(k.value, kind_label(k)) for k in OrganisationKind],
        "gender_options": [(g.value, str(label)) for g, label in ELIGIBLE_GENDER_LABELS.items()],
        "legal_options": [(p.value, str(label)) for p, label in ELIGIBLE_LEGAL_LABELS.items()],
        "client_gender_options": [(g.value, str(label)) for g, label in CLIENT_GENDER_LABELS.items()],
        "client_legal_options": [(p.value, str(label)) for p, label in CLIENT_LEGAL_LABELS.items()],
        "status_options": [(s.value, str(label)) for s, label in SERVICE_STATUS_LABELS.items()],
    }
