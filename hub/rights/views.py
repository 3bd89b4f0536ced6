"""The client's rights in the web interface, for the coach of the client's programme: one page to
set or lift a legal hold and record an erasure request, and two printable documents for the client
(the read log and the full export), in Dutch or English. Thin: parse, call the service, render."""
from __future__ import annotations

from babel import Locale
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub import LOCALES
from hub.auth.permissions import Permission, require
from hub.clock import local_today, utcnow
from hub.errors import HubError
from hub.forms import load_form
from hub.referrals.models import Client
from hub.referrals.service import programme_client
from hub.rights import readlog, service
from hub.rights.schemas import ErasureClosingSchema
from hub.rights.words import closing_options, template_helpers

bp = Blueprint("rights", __name__, template_folder="templates")
CLOSING_FIELDS = tuple(ErasureClosingSchema().fields)  # outcome, destination, closed_on
bp.context_processor(template_helpers)


def _rights_page(client: Client, errors: dict | None = None, status: int = 200):
    return render_template("rights/rights.html", client=client, state=service.status(current_user, client),
                           errors=errors or {}, form=request.form, local_date=readlog.local_date,
                           local_datetime=readlog.local_datetime, today=local_today(utcnow()),
                           **closing_options()), status


FORM_FIELDS = ("reason", "hold_reason", "confirm", *CLOSING_FIELDS)


def _errors(error: HubError) -> dict:
    fields = {**error.fields, **error.fields.get("close_trajectory", {})}  # the form has them side by side
    return {"_form": [error.message], **{name: messages for name, messages in fields.items() if name in FORM_FIELDS}}


@bp.get("/clients/<int:client_id>/rights")
@login_required
@require(Permission.CLIENT_RIGHTS)
def rights(client_id: int):
    """The client's rights: read log and copy to print, the legal hold, erasure."""
    return _rights_page(programme_client(current_user, client_id))


@bp.post("/clients/<int:client_id>/legal-hold")
@login_required
@require(Permission.CLIENT_RIGHTS)
def set_legal_hold(client_id: int):
    client = programme_client(current_user, client_id)
    try:
        service.set_legal_hold(current_user, client, request.form.get("hold_reason", ""), utcnow())
    except HubError as error:
        error.fields = {"hold_reason": error.fields.get("reason", [])}
        return _rights_page(client, _errors(error), error.status)
    flash(_("The legal hold is set: nothing of this client's data is erased while it lasts."), "info")
    return redirect(url_for("rights.rights", client_id=client.id))


@bp.post("/clients/<int:client_id>/legal-hold/lift")
@login_required
@require(Permission.CLIENT_RIGHTS)
def lift_legal_hold(client_id: int):
    client = programme_client(current_user, client_id)
    try:
        carried_out = service.clear_legal_hold(current_user, client, utcnow())
    except HubError as error:
        return _rights_page(client, _errors(error), error.status)
    flash(_("The legal hold is lifted.") + (" " + _("The erasure request it held is carried out: the data is erased.")
                                            if carried_out else ""), "info")
    return redirect(url_for("rights.rights", client_id=client.id))


@bp.post("/clients/<int:client_id>/erasure")
@login_required
@require(Permission.CLIENT_RIGHTS)
def erasure(client_id: int):
    """Erase on the client's request; an open trajectory is closed with it, with the outcome the coach
    gives here (the client may have withdrawn the consent the trajectory's own page needs)."""
    client = programme_client(current_user, client_id)
    errors: dict = {}
    closing = None
    if service.has_open_trajectory(client.id):
        closing, errors = load_form(ErasureClosingSchema)
    if request.form.get("confirm") != "yes":
        errors["confirm"] = [_("Required.")]
    if errors:
        message = (_("Tick the box to confirm: erasing cannot be undone.") if list(errors) == ["confirm"]
                   else _("Nothing was erased. Check the fields marked below."))
        return _rights_page(client, {"_form": [message], **errors}, 422)
    try:
        service.request_erasure(current_user, client, request.form.get("reason", ""), utcnow(), closing)
    except HubError as error:
        return _rights_page(client, _errors(error), error.status)
    flash(_("The client's data is erased. What the figures need (dates, phases, outcomes) stays, without the story."),
          "info")
    return redirect(url_for("rights.rights", client_id=client.id))


def _language() -> tuple[str, list[tuple[str, str]]]:
    lang = request.args.get("lang")
    lang = lang if lang in LOCALES else str(get_locale())
    return lang, [(code, Locale.parse(code).get_display_name(code).capitalize()) for code in LOCALES]


@bp.get("/clients/<int:client_id>/read-log")
@login_required
@require(Permission.CLIENT_RIGHTS)
def read_log(client_id: int):
    """For the client, to print or show: who read or changed what, when, on what ground."""
    client = programme_client(current_user, client_id)
    lang, languages = _language()
    now = utcnow()
    with force_locale(lang):
        lines = service.read_log_lines(current_user, client)
        return render_template("rights/read_log.html", client=client, lines=lines, lang=lang, languages=languages,
                               made_on=readlog.local_date(now), endpoint="rights.read_log")


@bp.get("/clients/<int:client_id>/export")
@login_required
@require(Permission.CLIENT_RIGHTS)
def export(client_id: int):
    """For the client, to print or show: everything the hub holds about them (the access request)."""
    client = programme_client(current_user, client_id)
    lang, languages = _language()
    now = utcnow()
    with force_locale(lang):
        data = service.export_data(current_user, client, now, "html")
        return render_template("rights/export.html", client=client, data=data, lines=readlog.by_day(client.id),
                               lang=lang, languages=languages,
                               made_on=readlog.local_date(now), endpoint="rights.export",
                               local_date=readlog.local_date, local_datetime=readlog.local_datetime,
                               moment=_moment)


def _moment(value: str | None, with_time: bool = True) -> str:
    """An ISO date or time from the export, as people read it (Dutch clock time)."""
    from datetime import date, datetime

    if not value:
        return "–"
    if len(value) == 10:
        return readlog.local_date(datetime.combine(date.fromisoformat(value), datetime.min.time(),
                                                   tzinfo=readlog.AMSTERDAM))
    moment = datetime.fromisoformat(value)
    return readlog.local_datetime(moment) if with_time else readlog.local_date(moment)
