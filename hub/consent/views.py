"""Consent in the web interface: the coach records and withdraws a client's consents, and prints
an overview for the client in plain language. The programme manages its clients' consents even
when it may no longer read the dossier (`programme_client`), so a withdrawal can always be undone
by a new consent and always be shown to the client."""
from __future__ import annotations

from datetime import datetime

from babel import Locale
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from hub import LOCALES
from hub.api import paginate
from hub.audit.models import AuditAction
from hub.audit.service import record
from hub.auth.permissions import Permission, require
from hub.clock import utcnow
from hub.consent.forms import (
    ConsentForm,
    consent_body,
    default_statement,
    end_of,
    first_day,
    last_day,
    method_options,
)
from hub.consent.models import Consent
from hub.consent.schemas import WithdrawSchema
from hub.consent.service import decide, record_consent, withdraw_consent
from hub.errors import HubError
from hub.extensions import db
from hub.forms import load_form, safe_next
from hub.labels import kind_label, label_helpers, purpose_label, scope_label
from hub.partners.models import Organisation
from hub.referrals.forms import form_errors
from hub.referrals.models import Client
from hub.referrals.service import client_coaches, consent_for_coach, programme_client
from hub.vocab import SCOPE_ITEMS, ConsentPurpose

bp = Blueprint("consent", __name__, template_folder="templates")
CONSENTS_PER_PAGE = 10  # a long history (re-entries, narrowed scopes) stays short on a phone
bp.context_processor(label_helpers)


def state(consent: Consent, now: datetime) -> str:
    """in_force, upcoming, expired or withdrawn: for display only (access is `decide`'s)."""
    if consent.withdrawn_at is not None and consent.withdrawn_at <= now:
        return "withdrawn"
    if consent.valid_until is not None and consent.valid_until <= now:
        return "expired"
    return "upcoming" if consent.valid_from > now else "in_force"


def client_consents(client: Client, tag: str = "consent:consents:read") -> list[Consent]:
    """Every consent of the client, newest first; showing them is audited."""
    consents = list(db.session.scalars(
        select(Consent).where(Consent.client_id == client.id).order_by(Consent.id.desc())))
    record(tag, AuditAction.READ, object_type="client", object_id=client.id, client_id=client.id)
    return consents


PREFILLED = ("recipient_organisation_id", "purpose", "scope")


def form_context(client_id: int, form=None, errors: dict | None = None) -> dict:
    """What the form for a new consent needs."""
    organisations = db.session.execute(select(Organisation.id, Organisation.name, Organisation.kind)
                                       .order_by(Organisation.name)).all()
    return {
        "client_id": client_id, "consent_form": form if form is not None else MultiDict(),
        "consent_errors": errors or {},
        "organisation_options": [(o.id, f"{o.name} ({kind_label(o.kind)})") for o in organisations],
        "purpose_options": [(p.value, purpose_label(p)) for p in ConsentPurpose],
        "method_options": method_options(),
        "scope_options": [(item, scope_label(item)) for item in SCOPE_ITEMS],
        "default_consent_statement": default_statement(),
    }


def consents_page(client: Client, page: int) -> dict:
    """One page of the client's consents, newest first; showing them is audited (one event)."""
    listing = paginate(select(Consent).where(Consent.client_id == client.id).order_by(Consent.id.desc()),
                       page, CONSENTS_PER_PAGE, db.session)
    record("consent:consents:read", AuditAction.READ, object_type="client", object_id=client.id, client_id=client.id)
    return listing


def consents_context(client: Client, now: datetime, endpoint: str) -> dict:
    """What the consents part of a page (dossier or consents page, `endpoint`) needs: the page of
    consents asked for by `?consents_page=`, and the form for a new one."""
    page = min(max(request.args.get("consents_page", 1, type=int), 1), 100_000)
    listing = consents_page(client, page)
    consents = listing["items"]
    return {"consents": consents, "consents_listing": listing, "consents_endpoint": endpoint,
            "states": {c.id: state(c, now) for c in consents}, "last_day": last_day, "first_day": first_day,
            **form_context(client.id)}


@bp.get("/clients/<int:client_id>/consents")
@login_required
@require(Permission.CONSENT_MANAGE)
def consents(client_id: int):
    now = utcnow()
    client = programme_client(current_user, client_id)
    dossier_open = decide(current_user.organisation_id, client.id, ConsentPurpose.HANDOFF, None, now).allowed
    return render_template("consent/consents.html", dossier_open=dossier_open,
                           **consents_context(client, now, "consent.consents"))


@bp.route("/clients/<int:client_id>/consents/new", methods=["GET", "POST"])
@login_required
@require(Permission.CONSENT_MANAGE)
def new_consent(client_id: int):
    client = programme_client(current_user, client_id)
    errors: dict = {}
    status = 200
    if request.method == "POST":
        try:
            data = ConsentForm().load(consent_body(request.form))
            data["valid_until"] = end_of(data["valid_until"])
            consent = record_consent(current_user, client_id=client.id, now=utcnow(), **data)
        except ValidationError as error:
            errors, status = form_errors(error.normalized_messages()), 422
        except HubError as error:
            errors, status = form_errors(error.fields) or {"_form": [error.message]}, error.status
        else:
            flash(_("The consent for %(organisation)s is recorded.", organisation=consent.recipient.name), "info")
            return redirect(safe_next(request.form.get("next"), url_for("consent.consents", client_id=client.id)))
    # Opened from a refused referral, the form comes filled in for its partner and life domain (GET); only
    # those: what the client agreed to and how is never filled in by a link.
    form = request.form if request.method == "POST" else MultiDict(
        [(key, value) for key, value in request.args.items(multi=True) if key in PREFILLED])
    return render_template("consent/new_consent.html", next_url=safe_next(request.values.get("next"), ""),
                           **form_context(client.id, form, errors)), status


@bp.route("/consents/<int:consent_id>/withdraw", methods=["GET", "POST"])
@login_required
@require(Permission.CONSENT_MANAGE)
def withdraw(consent_id: int):
    """One reason, one click: the recipient loses access from its very next request."""
    consent = consent_for_coach(current_user, consent_id)
    errors: dict = {}
    status = 200
    if request.method == "POST":
        data, errors = load_form(WithdrawSchema)
        if data is not None:
            now = utcnow()
            try:
                withdraw_consent(current_user, consent, data["reason"], now, coaches=client_coaches(consent.client_id))
            except HubError as error:
                errors, status = form_errors(error.fields), error.status
                if not errors:
                    flash(error.message, "error")
            else:
                flash(_("The consent for %(organisation)s is withdrawn. From now on %(organisation)s sees nothing "
                        "under it.", organisation=consent.recipient.name), "info")
                return redirect(_after_withdrawal(consent, now))
        else:
            errors, status = form_errors(errors), 422
    else:
        record("consent:consent:read", AuditAction.READ, object_type="consent", object_id=consent.id,
               client_id=consent.client_id)
    return render_template("consent/withdraw.html", consent=consent, errors=errors), status


def _after_withdrawal(consent: Consent, now: datetime) -> str:
    """Back where the coach came from, unless that was the dossier and it is now closed to the programme."""
    consents_page = url_for("consent.consents", client_id=consent.client_id)
    if not decide(current_user.organisation_id, consent.client_id, ConsentPurpose.HANDOFF, None, now).allowed:
        return consents_page
    return safe_next(request.form.get("next"), consents_page)


@bp.get("/clients/<int:client_id>/consents/print")
@login_required
@require(Permission.CONSENT_MANAGE)
def print_overview(client_id: int):
    """For the client, in plain words and their language: who may see what, until when, and how to stop it.
    No name on it (the paper may be found by others); the coach hands it over or shows it on screen."""
    now = utcnow()
    client = programme_client(current_user, client_id)
    lang = request.args.get("lang")
    lang = lang if lang in LOCALES else str(get_locale())
    consents = client_consents(client, tag="consent:overview:printed")
    current = [c for c in consents if state(c, now) in ("in_force", "upcoming")]
    ended = [c for c in consents if state(c, now) in ("withdrawn", "expired")]
    languages = [(code, Locale.parse(code).get_display_name(code).capitalize()) for code in LOCALES]
    with force_locale(lang):
        page = render_template("consent/print.html", current=current, ended=ended, now=now, lang=lang,
                               states={c.id: state(c, now) for c in consents}, last_day=last_day,
                               coaches=client_coaches(client.id), programme=client.programme,
                               languages=languages, client_id=client.id)
    return page
