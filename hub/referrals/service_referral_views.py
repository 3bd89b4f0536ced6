"""Service referrals in the web interface: the partner's inbox and referral page (the consented part
of the story only), the coach's overview, referring on from the dossier, hold, resume and cancel, the
message thread; escalations; and the chain director's norms. Thin: parse, call the service, render.

Who may see what is decided by the services (`referral_for`, `detail`, `thread`, `escalations_query`).
A form that comes back with errors is shown on a page of its own, without the client's data: the
request is rolled back (hub/http.py), and a page of client data must never go out unaudited.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import EXCLUDE, ValidationError
from sqlalchemy import case, select

from config.sla import default_rules, ladder
from hub.api import paginate
from hub.audit.service import record_listing
from hub.auth.models import User
from hub.auth.permissions import Permission, can, require
from hub.clock import utcnow
from hub.consent.forms import REFERRAL_CONSENT_FIELDS, default_statement, method_options, referral_consent
from hub.consent.service import record_consent
from hub.errors import Forbidden, HubError, NotFound
from hub.extensions import db
from hub.forms import load_form
from hub.labels import domain_label, kind_label, label_helpers, referral_status_label, service_referral_label_helpers
from hub.partners.models import Organisation
from hub.partners.service import measured_waiting, measurement_fields, organisations_query
from hub.referrals import escalation as norms
from hub.referrals import service_referrals as service
from hub.referrals.escalation_api import escalations_query
from hub.referrals.service import client_for_coach
from hub.referrals.service_referral_forms import (
    EscalationArgs,
    ListArgs,
    MessageForm,
    OverrideForm,
    ReferForm,
    StatusForm,
    form_errors,
)
from hub.referrals.service_referral_models import (
    Escalation,
    EscalationState,
    HoldReason,
    RejectReason,
    ServiceReferral,
    Status,
)
from hub.referrals.workflow import PROGRESS, allowed_targets
from hub.vocab import PARTNER_KINDS, LifeDomain, OrganisationKind, Role

bp = Blueprint("service_referrals", __name__, template_folder="templates")
PER_PAGE = 25


def local_time(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A moment as Dutch clock time, as the people in the chain read and type it."""
    return moment.astimezone(norms.AMSTERDAM).strftime(fmt) if moment else ""


@bp.context_processor
def _helpers() -> dict:
    return {**label_helpers(), **service_referral_label_helpers(), "local_time": local_time}


def _args(schema) -> dict:
    """Query-string filters; a filter that does not parse is ignored rather than refused."""
    raw = {k: v for k, v in request.args.items() if v != ""}
    try:
        return schema().load(raw, unknown=EXCLUDE)
    except ValidationError as error:
        return schema().load({k: v for k, v in raw.items() if k not in error.normalized_messages()},
                             unknown=EXCLUDE)


def _names(model, ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(model.id, model.name).where(model.id.in_(ids))).all())


# --- the partner's inbox, the coach's overview ------------------------------------------------------

@bp.get("/service-referrals")
@login_required
@require(Permission.SERVICE_REFERRAL_READ)
def referrals():
    """A partner's inbox or the programme's overview: urgent first, then the newest."""
    args = _args(ListArgs)
    chosen = args["status"]
    query = service.referrals_query(current_user, status=Status(chosen) if chosen not in ("open", "all") else None,
                                    client_id=args["client_id"], open_only=chosen == "open")
    query = query.order_by(None).order_by(ServiceReferral.urgent.desc(), ServiceReferral.requested_at.desc(),
                                          ServiceReferral.id.desc())
    listing = paginate(query, args["page"], PER_PAGE, db.session)
    record_listing("referrals:service_referrals:listed", listing, object_type="service_referral",
                   filters={"status": chosen, "client_id": args["client_id"]})
    now = utcnow()
    listing["items"] = [service.summary(referral, now) for referral in listing["items"]]
    programmes = _names(Organisation, [item["programme_id"] for item in listing["items"]])
    filters = {"status": chosen, **({"client_id": args["client_id"]} if args["client_id"] else {})}
    return render_template("service_referrals/list.html", listing=listing, filters=filters, programmes=programmes,
                           is_partner=current_user.role == Role.PARTNER, statuses=list(Status))


# --- one referral ---------------------------------------------------------------------------------

@bp.get("/service-referrals/<int:referral_id>")
@login_required
@require(Permission.SERVICE_REFERRAL_READ)
def referral_page(referral_id: int):
    """The referral: the partner sees only the consented part of the story (audited by the service)."""
    referral = service.referral_for(current_user, referral_id)
    now = utcnow()
    shown = service.detail(current_user, referral, now)
    try:
        messages, thread_closed = service.thread(current_user, referral, now), None
    except Forbidden as error:  # the partner's consent ended: the thread closes with it
        messages, thread_closed = [], error.message
    authors = _names(User, [m.author_id for m in messages])
    organisations = _names(Organisation, [referral.programme_id, referral.organisation_id])
    return render_template("service_referrals/referral.html", referral=shown, messages=messages, authors=authors,
                           organisations=organisations, thread_closed=thread_closed, forms=_form_context(referral, now))


def _form_context(referral: ServiceReferral, now: datetime, failed: str | None = None, errors: dict | None = None
                  ) -> dict:
    """What the status forms need: exactly the steps the user's role may take from here."""
    targets = (allowed_targets(referral.status, referral.held_from, current_user.role)
               if can(current_user, Permission.SERVICE_REFERRAL_UPDATE) else frozenset())
    return {
        "progress_targets": [s for s in PROGRESS if s in targets and current_user.role == Role.PARTNER],
        "may_reject": Status.REJECTED in targets, "may_hold": Status.ON_HOLD in targets,
        "may_cancel": Status.CANCELLED in targets,
        "resume_to": referral.held_from if referral.held_from in targets else None,
        "hold_reasons": [(r.value, r) for r in HoldReason], "reject_reasons": [(r.value, r) for r in RejectReason],
        "now_local": local_time(now, "%Y-%m-%dT%H:%M"), "since_local": local_time(referral.status_since,
                                                                                   "%Y-%m-%dT%H:%M"),
        "failed": failed, "errors": errors or {}, "form": request.form,
    }


def _failed_form(referral: ServiceReferral, failed: str, errors: dict, status: int, message: str | None = None):
    """The form again with what is wrong, on a page without client data; nothing was saved."""
    if message:
        flash(message, "error")
    return render_template("service_referrals/form_again.html", referral=service.summary(referral, utcnow()),
                           forms=_form_context(referral, utcnow(), failed, errors)), status


@bp.post("/service-referrals/<int:referral_id>/status")
@login_required
@require(Permission.SERVICE_REFERRAL_UPDATE)
def set_status(referral_id: int):
    referral = service.referral_for(current_user, referral_id)
    failed = request.form.get("form", "progress")
    data, errors = load_form(StatusForm)
    if data is None:
        return _failed_form(referral, failed, form_errors(errors), 422)
    now, occurred_at = utcnow(), data["occurred_at"]
    if occurred_at is not None and referral.status_since - timedelta(minutes=1) < occurred_at < referral.status_since:
        occurred_at = referral.status_since  # a form has minutes: the status began within the minute typed
    try:
        service.record_event(current_user, referral, data["status"], now, occurred_at=occurred_at,
                             note=data["note"], reason=data["reason"])
    except HubError as error:
        if error.code == "invalid_transition":
            message = _("This step is not possible (any more): the referral is now %(status)s. Nothing was saved.",
                        status=referral_status_label(referral.status))
            return _failed_form(referral, failed, {}, error.status, message)
        return _failed_form(referral, failed, form_errors(error.fields) or {"_form": [error.message]}, error.status)
    flash(_("The referral is now %(status)s.", status=referral_status_label(data["status"])), "info")
    return redirect(url_for("service_referrals.referral_page", referral_id=referral.id))


@bp.post("/service-referrals/<int:referral_id>/messages")
@login_required
@require(Permission.SERVICE_REFERRAL_READ)
def send_message(referral_id: int):
    referral = service.referral_for(current_user, referral_id)
    data, errors = load_form(MessageForm)
    if data is None:
        return _failed_form(referral, "message", form_errors(errors), 422)
    try:
        service.post_message(current_user, referral, data["body"], utcnow())
    except HubError as error:
        return _failed_form(referral, "message", form_errors(error.fields),
                            error.status, None if error.fields else error.message)
    flash(_("Your message is sent."), "info")
    return redirect(url_for("service_referrals.referral_page", referral_id=referral.id, _anchor="thread"))


# --- the coach refers on, from the dossier ------------------------------------------------------------

@bp.route("/clients/<int:client_id>/service-referrals/new", methods=["GET", "POST"])
@login_required
@require(Permission.SERVICE_REFERRAL_CREATE)
def new_referral(client_id: int):
    """Choose the life domain, then a partner serving it; the service checks the client's consent."""
    now = utcnow()
    client, _decision = client_for_coach(current_user, client_id, now)
    errors: dict = {}
    status, consent_missing = 200, None
    # A referral refused for want of consent comes back with the consent's fields in its form: the coach
    # records the consent and sends the referral in one go, and the note never leaves the page.
    with_consent = request.method == "POST" and request.form.get("with_consent") == "1"
    if with_consent and not can(current_user, Permission.CONSENT_MANAGE):
        raise Forbidden(_("Your role may not record a client's consent."))
    if request.method == "POST":
        data, errors = load_form(ReferForm)
        consent = None
        if data is not None and with_consent:
            consent, errors = referral_consent(request.form, data["organisation_id"], data["domain"])
        errors, status = form_errors(errors), 422 if errors else 200
        if data is not None and not errors:
            try:
                if consent is not None:
                    record_consent(current_user, client_id=client.id, now=now, **consent)
                referral = service.refer(current_user, client.id, data["organisation_id"], data["domain"],
                                         data["note"], now, urgent=data["urgent"])
            except HubError as error:  # answered 4xx: the consent recorded with it is rolled back too
                status = error.status
                if error.code == "consent_required":
                    consent_missing = error.message
                else:
                    errors = form_errors(_consent_fields(error.fields) if consent else error.fields) \
                        or {"_form": [error.message]}
            else:
                flash(_("The referral is sent to %(name)s. They are told in the hub.",
                        name=referral.organisation.name), "info")
                if consent is not None:
                    flash(_("The consent for %(organisation)s is recorded.", organisation=referral.organisation.name),
                          "info")
                return redirect(url_for("service_referrals.referral_page", referral_id=referral.id))
    chosen = request.form.get("domain") or request.args.get("domain") or ""
    domain = LifeDomain(chosen) if chosen in {d.value for d in LifeDomain} else None
    partners = []
    if domain is not None:
        partners = db.session.scalars(organisations_query(domain=domain)
                                      .where(Organisation.kind.in_(PARTNER_KINDS))).all()
    measured = measured_waiting([p.id for p in partners], now=now) if partners else {}
    waiting = {p.id: measurement_fields(measured.get(p.id)) for p in partners}
    shown = db.session.scalars(
        service.referrals_query(current_user, client_id=client.id, open_only=True).limit(50)).all()
    record_listing("referrals:service_referrals:listed", {"items": shown, "page": 1, "per_page": 50},
                   object_type="service_referral", filters={"client_id": client.id, "open": True})
    open_referrals = [service.summary(r, now) for r in shown]
    # the partner chosen: posted, or in the address when the coach comes back from recording a consent
    chosen_partner = request.form.get("organisation_id") or request.args.get("organisation_id") or ""
    return render_template("service_referrals/new.html", client_id=client.id, alias=client.alias, domain=domain,
                           partners=partners, domains=list(LifeDomain), errors=errors, form=request.form,
                           chosen_partner=chosen_partner, consent_missing=consent_missing,
                           consent_open=bool(consent_missing) or with_consent, method_options=method_options(),
                           default_consent_statement=default_statement(),
                           open_referrals=open_referrals, waiting=waiting), status


# The consent's fields that the refer-on form fills from the referral's own.
_FROM_THE_REFERRAL = {"recipient_organisation_id": "organisation_id", "scope": "domain"}


def _consent_fields(fields: dict | None) -> dict | None:
    """A refusal of the consent recorded with a referral, its fields named as the form names them."""
    def named(name: str) -> str:
        return f"consent_{name}" if name in REFERRAL_CONSENT_FIELDS else _FROM_THE_REFERRAL.get(name, name)
    return {named(name): messages for name, messages in fields.items()} if fields else fields


# --- escalations --------------------------------------------------------------------------------------

@bp.get("/escalations")
@login_required
@require(Permission.ESCALATION_READ)
def escalations():
    """Stalled referrals for the people who must act on them: open first, then the newest."""
    args = _args(EscalationArgs)
    state = EscalationState(args["state"]) if args["state"] != "all" else None
    query = escalations_query(current_user, state).order_by(None).order_by(
        case((Escalation.state == EscalationState.OPEN, 0), else_=1), Escalation.raised_at.desc(),
        Escalation.id.desc())
    listing = paginate(query, args["page"], PER_PAGE, db.session)
    record_listing("referrals:escalations:listed", listing, object_type="escalation", filters={"state": args["state"]})
    return render_template("service_referrals/escalations.html", listing=listing, state=args["state"],
                           may_open_referral=can(current_user, Permission.SERVICE_REFERRAL_READ))


@bp.get("/escalations/<int:escalation_id>")
@login_required
@require(Permission.ESCALATION_READ)
def escalation_page(escalation_id: int):
    """An escalation with its referral's status history: statuses and times only, no client data,
    so that the chain director may see it too."""
    escalation = db.session.scalar(escalations_query(current_user, None).where(Escalation.id == escalation_id))
    if escalation is None:
        raise NotFound(_("There is no such escalation, or you may not see it."))
    referral = escalation.referral
    ladder_rows = db.session.scalars(escalations_query(current_user, None).where(
        Escalation.service_referral_id == referral.id).order_by(None).order_by(Escalation.episode,
                                                                                 Escalation.level)).all()
    return render_template("service_referrals/escalation.html", escalation=escalation,
                           referral=service.summary(referral, utcnow()), events=referral.events,
                           ladder_rows=ladder_rows,
                           may_open_referral=can(current_user, Permission.SERVICE_REFERRAL_READ))


# --- the chain director's norms ----------------------------------------------------------------------

@bp.get("/sla")
@login_required
@require(Permission.SLA_MANAGE)
def sla():
    return _sla_page()


def _sla_page(errors: dict | None = None, status: int = 200):
    municipality = current_user.organisation.municipality
    return render_template(
        "service_referrals/sla.html", municipality=municipality, defaults=default_rules(), steps=ladder(),
        overrides=norms.overrides_for(municipality), errors=errors or {}, form=request.form,
        status_options=[(s.value, referral_status_label(s)) for s in norms.CLOCKED_STATUSES],
        kind_options=[(k.value, kind_label(k)) for k in OrganisationKind if k in PARTNER_KINDS],
        domain_options=[(d.value, domain_label(d)) for d in LifeDomain], max_days=norms.MAX_WORKING_DAYS), status


@bp.post("/sla/overrides")
@login_required
@require(Permission.SLA_MANAGE)
def add_override():
    data, errors = load_form(OverrideForm)
    if data is None:
        return _sla_page(form_errors(errors), 422)
    try:
        norms.set_override(current_user, data["status"], data["working_days"], utcnow(), kind=data["kind"],
                           domain=data["domain"], urgent=data["urgent"])
    except HubError as error:
        if not error.fields or error.code == "duplicate_override":
            flash(error.message, "error")
        return _sla_page(form_errors(error.fields), error.status)
    flash(_("The norm is saved. It applies from the next sweep."), "info")
    return redirect(url_for("service_referrals.sla"))


@bp.post("/sla/overrides/<int:override_id>/remove")
@login_required
@require(Permission.SLA_MANAGE)
def remove_override(override_id: int):
    norms.remove_override(current_user, override_id, utcnow())
    flash(_("The norm is removed; the default applies again."), "info")
    return redirect(url_for("service_referrals.sla"))
