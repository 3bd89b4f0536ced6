"""The handoff in the web interface: the referrer's form and status list, the coach's intake queue
and handoff page, and the dossier. Thin: parse, call the service, render."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import Schema, ValidationError
from marshmallow import fields as ma_fields
from sqlalchemy import select

from hub.api import paginate
from hub.audit.service import record_listing
from hub.auth.models import User
from hub.auth.permissions import Permission, can, require
from hub.clock import local_today, utcnow
from hub.consent.views import consents_context
from hub.errors import HubError
from hub.extensions import db
from hub.forms import load_form
from hub.labels import (
    domain_label,
    gender_label,
    label_helpers,
    legal_status_label,
    method_label,
    phase_label,
    referral_status_label,
    scope_label,
    target_group_label,
    urgency_label,
)
from hub.partners.models import Organisation
from hub.referrals import service, service_referrals, trajectory
from hub.referrals.forms import FirstContactForm, form_errors, handoff_body, moment_on
from hub.referrals.models import Handoff, HandoffStatus, Phase
from hub.referrals.schemas import (
    AcceptSchema,
    DeclineSchema,
    HandoffCoachSchema,
    HandoffCreateSchema,
    HandoffStatusSchema,
)
from hub.rights.words import closing_options, word
from hub.vocab import (
    HANDOFF_SCOPE_ITEMS,
    ConsentMethod,
    Gender,
    LegalStatus,
    LifeDomain,
    OrganisationKind,
    Role,
    TargetGroup,
    Urgency,
)

bp = Blueprint("referrals", __name__, template_folder="templates")
bp.context_processor(label_helpers)
PER_PAGE = 25
CASELOAD_FILTERS = ("all", "mine", "backup")  # my clients and those I back up; as coach; as backup coach


def shown(handoff: Handoff, schema: Schema) -> dict:
    """The handoff as `schema` shows it to its audience: only the schema's fields (referrers never
    get more than HandoffStatusSchema), as Python values for display."""
    return {name: field.serialize(name, handoff) if isinstance(field, ma_fields.Method) else getattr(handoff, name)
            for name, field in schema.fields.items()}


def _audience_schema() -> Schema:
    return HandoffStatusSchema() if current_user.role == Role.REFERRER else HandoffCoachSchema()


def _names(model, ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(model.id, model.name).where(model.id.in_(ids))).all())


# --- the referrer's form ------------------------------------------------------------------------

@bp.route("/handoffs/new", methods=["GET", "POST"])
@login_required
@require(Permission.HANDOFF_CREATE)
def new_handoff():
    """One form, quick on a phone: who, how to reach them safely, the story, the consent."""
    errors: dict = {}
    status = 200
    if request.method == "POST":
        body = handoff_body(request.form)
        try:
            handoff = service.submit_handoff(current_user, HandoffCreateSchema().load(body), utcnow())
        except ValidationError as error:
            errors, status = form_errors(error.normalized_messages(), body), 422
        except HubError as error:
            errors = form_errors(error.fields, body, consent_prefix=True) or {"_form": [error.message]}
            status = error.status
        else:
            flash(_("Handoff %(id)s is sent to %(programme)s. Its status shows here.", id=handoff.id,
                    programme=handoff.programme_name), "info")
            return redirect(url_for("referrals.handoffs"))
    programmes = db.session.execute(
        select(Organisation.id, Organisation.name, Organisation.municipality)
        .where(Organisation.kind == OrganisationKind.EXIT_PROGRAMME).order_by(Organisation.name)).all()
    return render_template(
        "referrals/new_handoff.html", errors=errors, form=request.form,
        programme_options=[(p.id, f"{p.name} ({p.municipality})") for p in programmes],
        default_statement=_("I agree that the exit programme receives what is ticked below, so that a coach can "
                            "contact me safely and help me. I do not have to tell my story again. I can withdraw "
                            "this consent at any time; it then stops at once."),
        gender_options=[(g.value, gender_label(g)) for g in Gender],
        legal_status_options=[(s.value, legal_status_label(s)) for s in LegalStatus],
        target_group_options=[(t.value, target_group_label(t)) for t in TargetGroup],
        urgency_options=[(u.value, urgency_label(u)) for u in Urgency],
        method_options=[(m.value, method_label(m)) for m in ConsentMethod],
        scope_options=[(item, scope_label(item)) for item in HANDOFF_SCOPE_ITEMS], domains=list(LifeDomain)), status


# --- lists and the handoff page -------------------------------------------------------------------

@bp.get("/handoffs")
@login_required
@require(Permission.HANDOFF_READ)
def handoffs():
    """A referrer's own handoffs (status only), or the programme's intake queue."""
    is_referrer = current_user.role == Role.REFERRER
    chosen = request.args.get("status") or ("all" if is_referrer else HandoffStatus.SUBMITTED.value)
    status = HandoffStatus(chosen) if chosen in {s.value for s in HandoffStatus} else None
    page = max(request.args.get("page", 1, type=int), 1)
    listing = paginate(service.handoffs_query(current_user, status), page, 25, db.session)
    record_listing("referrals:handoffs:listed", listing, object_type="handoff",
                   filters={"status": status.value if status else "all"})
    schema = _audience_schema()
    listing["items"] = [shown(handoff, schema) for handoff in listing["items"]]
    organisations = _names(Organisation, [h[key] for h in listing["items"]
                                          for key in ("to_organisation_id", "from_organisation_id")])
    return render_template("referrals/handoffs.html", listing=listing, organisations=organisations,
                           status=status.value if status else "all", is_referrer=is_referrer,
                           statuses=list(HandoffStatus))


@bp.get("/handoffs/<int:handoff_id>")
@login_required
@require(Permission.HANDOFF_READ)
def handoff_page(handoff_id: int):
    return _handoff_page(service.handoff_for(current_user, handoff_id))


def _handoff_page(handoff: Handoff, errors: dict | None = None, status: int = 200):
    item = shown(handoff, _audience_schema())
    users = _names(User, [item.get("coach_id"), item.get("backup_coach_id")])
    coaches = []
    if current_user.role == Role.COACH:
        coaches = db.session.execute(select(User.id, User.name).where(
            User.organisation_id == handoff.to_organisation_id, User.role == Role.COACH,
            User.active.is_(True)).order_by(User.name)).all()
    organisations = _names(Organisation, [item["to_organisation_id"], item["from_organisation_id"]])
    return render_template("referrals/handoff.html", handoff=item, users=users, organisations=organisations,
                           coach_options=[(c.id, c.name) for c in coaches], errors=errors or {},
                           form=request.form, today=local_today(utcnow()).isoformat()), status


def _decide(handoff_id: int, schema, act, done: str):
    """Parse the coach's form, act on the handoff, and go back to its page (or show what is wrong)."""
    handoff = service.handoff_for(current_user, handoff_id)
    data, errors = load_form(schema)
    if data is not None:
        try:
            act(handoff, data)
        except HubError as error:
            if not error.fields:
                flash(error.message, "error")
            return _handoff_page(handoff, form_errors(error.fields), error.status)
        flash(done, "info")
        return redirect(url_for("referrals.handoff_page", handoff_id=handoff.id))
    return _handoff_page(handoff, form_errors(errors), 422)


@bp.post("/handoffs/<int:handoff_id>/accept")
@login_required
@require(Permission.HANDOFF_DECIDE)
def accept(handoff_id: int):
    return _decide(handoff_id, AcceptSchema, lambda handoff, data: service.accept_handoff(
        current_user, handoff, utcnow(), **data), _("The handoff is accepted; the referrer is told."))


@bp.post("/handoffs/<int:handoff_id>/decline")
@login_required
@require(Permission.HANDOFF_DECIDE)
def decline(handoff_id: int):
    return _decide(handoff_id, DeclineSchema, lambda handoff, data: service.decline_handoff(
        current_user, handoff, data["reason"], utcnow()), _("The handoff is declined; the referrer is told."))


@bp.post("/handoffs/<int:handoff_id>/first-contact")
@login_required
@require(Permission.HANDOFF_DECIDE)
def first_contact(handoff_id: int):
    def record(handoff, data):
        now = utcnow()
        service.record_first_contact(current_user, handoff, moment_on(data["on"], now, handoff.submitted_at), now)

    return _decide(handoff_id, FirstContactForm, record, _("The first contact is recorded."))


# --- the dossier ------------------------------------------------------------------------------

@bp.get("/clients/<int:client_id>")
@login_required
@require(Permission.CLIENT_READ)
def dossier(client_id: int):
    """What the client's consent lets the programme see, safe-contact rules first. Audited by the service."""
    return dossier_page(client_id)


def dossier_page(client_id: int, errors: dict | None = None, status: int = 200, posted: str | None = None):
    """The dossier; with `errors`, the trajectory form that was `posted` (`hub.referrals.trajectory_views`:
    "phase", "goal", "progress-<goal id>", "close" or "reentry") shown again, open, with its mistakes."""
    now, errors = utcnow(), errors or {}
    client, decision = service.client_for_coach(current_user, client_id, now)
    shown_dossier = service.dossier(current_user, client, now)
    handoff = shown_dossier["handoff"]
    # The safety concerns belong with the safe-contact rules: shown under the same consent ("contact").
    safety_concerns = handoff.safety_concerns if handoff and shown_dossier["safe_contact"] is not None else None
    latest = (trajectory.latest_trajectory(current_user, client, decision)
              if can(current_user, Permission.TRAJECTORY_READ) else None)
    return render_template(
        "referrals/dossier.html", client=shown_dossier, safety_concerns=safety_concerns,
        handoff=shown(handoff, HandoffStatusSchema()) if handoff else None,
        organisations=_names(Organisation, [handoff.from_organisation_id] if handoff else []),
        trajectory=latest, form=request.form, today=local_today(now), word=word, phase_label=phase_label,
        errors=errors, posted=posted,
        phases=[(phase.value, phase_label(phase)) for phase in Phase], **closing_options(),
        goal_domains=[(domain.value, domain_label(domain)) for domain in LifeDomain],
        **consents_context(client, now, "referrals.dossier")), status


# --- the coach's caseload -------------------------------------------------------------------------

@bp.get("/caseload")
@login_required
@require(Permission.TRAJECTORY_READ)
def caseload():
    """The coach's clients with an open trajectory: phase, open referrals to partners and which are
    late, the next deadline; nearest deadline first. One audit event lists the clients shown."""
    show = request.args.get("show", "all")
    show = show if show in CASELOAD_FILTERS else "all"
    page = min(max(request.args.get("page", 1, type=int), 1), 100_000)
    now = utcnow()
    listing = trajectory.caseload(current_user, now, page, PER_PAGE, backup_only=show == "backup",
                                  coach_id=current_user.id if show == "mine" else None, audit_each=False)
    entries = listing["items"]
    referrals = service_referrals.open_referrals_by_client(current_user, [e.client_id for e in entries], now)
    return render_template("referrals/caseload.html", listing=listing, referrals=referrals, show=show,
                           filters={"show": show} if show != "all" else {}, today=local_today(now),
                           coaches=_names(User, [e.coach_id for e in entries if e.as_backup]),
                           phase_label=phase_label, referral_status_label=referral_status_label)
