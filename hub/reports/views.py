"""The report pages: waiting times, the chain director's bottleneck page, uniform registration, the
phase funnel. Thin: parse the period, call the service, draw; every page downloads as CSV
(`?format=csv`), and every table of a page with several on its own (`?format=csv&table=<name>`)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import Schema, ValidationError

from hub.auth.permissions import Permission, require
from hub.clock import utcnow
from hub.errors import HubError
from hub.extensions import db
from hub.forms import load_form
from hub.labels import domain_label, gender_label, legal_status_label, phase_label, target_group_label
from hub.reports import charts, scope, service
from hub.reports.export import csv_response
from hub.reports.registration import COUNTS
from hub.reports.schemas import BottleneckArgs, PhaseFunnelArgs, RegistrationArgs, TargetSchema, WaitingArgs
from hub.reports.targets import set_target
from hub.vocab import Role

bp = Blueprint("reports", __name__, template_folder="templates", url_prefix="/reports")

BREAKDOWN_LABELS = {"gender": gender_label, "legal_status": legal_status_label,
                    "target_group": target_group_label, "domain": domain_label}


def _args(schema: type[Schema]) -> tuple[dict, dict, dict]:
    """The query's filters: (loaded arguments, errors, the raw values to fill the form with). With an
    error, the report shows its defaults beside the message."""
    raw = {key: value for key, value in request.args.items() if value != "" and key != "format"}
    try:
        return schema().load(raw), {}, raw
    except ValidationError as error:
        return schema().load({}), error.normalized_messages(), raw


def _csv_wanted() -> bool:
    return request.args.get("format") == "csv"


def _period_name(report: dict) -> str:
    return f"{report['period']['from']:%Y%m%d}-{report['period']['to']:%Y%m%d}"


@bp.context_processor
def helpers():
    return {"breakdown_label": lambda name, value: str(BREAKDOWN_LABELS[name](value)), "phase_label": phase_label,
            "csv_url": lambda table=None: url_for(request.endpoint, **{**request.args.to_dict(), "format": "csv",
                                                                       **({"table": table} if table else {})})}


def _csv(report: dict, name: str, tables: dict[str, tuple[list[str], list[list]]],
         whole: tuple[list[str], list[list]] | None = None):
    """The CSV download: one table (`?table=`), or the whole page: the table or `whole`."""
    table = request.args.get("table", "")
    if table in tables:
        header, rows = tables[table]
        return csv_response(f"{name}-{table.replace('_', '-')}-{_period_name(report)}.csv", header, rows)
    header, rows = whole or next(iter(tables.values()))
    return csv_response(f"{name}-{_period_name(report)}.csv", header, rows)


@bp.get("/waiting-times")
@login_required
@require(Permission.REPORT_READ)
def waiting_times():
    args, errors, raw = _args(WaitingArgs)
    by_domain = args["group_by"] == "domain"
    report = service.waiting_time_report(current_user, args["group_by"], args["period"], utcnow(),
                                         export=_csv_wanted())
    names = [domain_label(item["domain"]) if by_domain else item["organisation_name"] for item in report["items"]]
    if _csv_wanted():
        return _csv(report, "waiting-times", {"waiting_times": (
            ["domain" if by_domain else "organisation", "count", "started", "median_days", "p90_days",
             "open_waiting", "longest_current_waits"],
            [[name, item["count"], item["started"], item["median_days"], item["p90_days"], item["open_waiting"],
              " ".join(f"{days:g}" for days in item["longest_current_waits"])]
             for name, item in zip(names, report["items"], strict=True)])})
    started = sorted(((name, item) for name, item in zip(names, report["items"], strict=True) if item["started"]),
                     key=lambda pair: -(pair[1]["p90_days"] or 0))
    chart = charts.horizontal_bars(
        "waiting-chart", _("Median and 90th percentile of days waited"),
        _("Per row a bar for the median and one for the 90th percentile of the days from request to start, the "
          "longest waits on top (at most %(count)d rows); the numbers are in the table below.",
          count=charts.MAX_ROWS),
        [(name, [item["median_days"] or 0, item["p90_days"] or 0]) for name, item in started],
        [_("median"), _("90th percentile")], stacked=False)
    return render_template("reports/waiting_times.html", report=report, names=names, chart=chart, errors=errors,
                           filters=raw)


@bp.get("/bottlenecks")
@login_required
@require(Permission.REPORT_READ)
def bottlenecks():
    args, errors, raw = _args(BottleneckArgs)
    report = service.bottleneck_report(current_user, args["period"], utcnow(), args["rank_by"], export=_csv_wanted())
    if _csv_wanted():
        measures = ["waiting_days", "partner_days", "client_days", "municipality_days", "escalations"]
        rows = []
        for rank, item in enumerate(report["items"], start=1):
            rows.append([rank, item["organisation_name"], "", *_measures(item)])
            rows.extend([rank, item["organisation_name"], month["month"], *_measures(month)]
                        for month in item["months"])
        rows.extend(["", "", month["month"], *_measures(month)] for month in report["months"])
        rows.append(["", "", "", *_measures(report["totals"])])
        return _csv(report, "bottlenecks", {
            "partners": (["rank", "organisation", *measures],
                         [[rank, item["organisation_name"], *_measures(item)]
                          for rank, item in enumerate(report["items"], start=1)]),
            "months": (["month", *measures], [[month["month"], *_measures(month)] for month in report["months"]]),
        }, whole=(["rank", "organisation", "month", *measures], rows))
    sides = [_("partner's side"), _("client's side"), _("municipality's side")]
    ranked = charts.horizontal_bars(
        "ranked-chart", _("Client-days lost to waiting per partner"),
        _("Per partner one bar, divided into the days on the partner's side, the client's side and the "
          "municipality's side; the numbers are in the table below."),
        [(item["organisation_name"], [item["partner_days"], item["client_days"], item["municipality_days"]])
         for item in report["items"][:15] if item["waiting_days"]], sides, stacked=True)
    months = report["months"]
    trend = charts.trend(
        "trend-chart", _("Client-days lost to waiting and escalations per month"),
        _("Per month the client-days lost to waiting, the part of them on the partner's side, and (on the right "
          "axis) the escalations raised; the numbers are in the table below."),
        [month["month"] for month in months],
        [(_("client-days lost"), [month["waiting_days"] for month in months]),
         (_("on the partner's side"), [month["partner_days"] for month in months])],
        (_("escalations (right axis)"), [month["escalations"] for month in months])) \
        if any(month["waiting_days"] or month["escalations"] for month in months) else None
    return render_template("reports/bottlenecks.html", report=report, ranked_chart=ranked, trend_chart=trend,
                           errors=errors, filters=raw)


def _measures(values: dict) -> list:
    return [values["waiting_days"], values["partner_days"], values["client_days"], values["municipality_days"],
            values["escalations"]]


@bp.get("/registration")
@login_required
@require(Permission.REPORT_READ)
def registration():
    args, errors, raw = _args(RegistrationArgs)
    report = service.registration_report(current_user, args.get("organisation_id"), args["period"],
                                         export=_csv_wanted())
    if _csv_wanted():
        rows = [["total", "", *(report[name] for name in COUNTS), report["expected"]]]
        rows.extend([name, cell["value"], *(cell[count] for count in COUNTS), ""]
                    for name, cells in report["breakdowns"].items() for cell in cells)
        tables = {"totals": (["expected", *COUNTS], [[report["expected"], *(report[name] for name in COUNTS)]])}
        tables.update({name: ([name, *COUNTS], [[cell["value"], *(cell[count] for count in COUNTS)]
                                                for cell in cells])
                       for name, cells in report["breakdowns"].items()})
        return _csv(report, "registration", tables, whole=(["breakdown", "value", *COUNTS, "expected"], rows))
    return render_template("reports/registration.html", report=report, errors=errors, filters=raw,
                           programmes=scope.programme_choices(current_user, db.session), counts=COUNTS,
                           may_set_target=current_user.role == Role.COACH, this_year=utcnow().year)


@bp.get("/phases")
@login_required
@require(Permission.REPORT_READ)
def phases():
    args, errors, raw = _args(PhaseFunnelArgs)
    report = service.phase_funnel_report(current_user, args.get("organisation_id"), args["period"],
                                         export=_csv_wanted())
    if _csv_wanted():
        return _csv(report, "phases", {"phases": (
            ["phase", "reached", "current"],
            [[item["phase"], item["reached"], item["current"]] for item in report["phases"]]
            + [["trajectories", report["trajectories"], ""]])})
    # A hidden count ("<5") is drawn as nothing: the chart never shows what the table hides.
    chart = charts.funnel(
        "phase-funnel-chart", _("Trajectories per phase reached"),
        _("A funnel with one slice per phase, contact, orientation, execution and aftercare, as wide as the number "
          "of trajectories that reached that phase; the numbers are in the table below."),
        [(str(phase_label(item["phase"])), item["reached"] if isinstance(item["reached"], int) else 0)
         for item in report["phases"]])
    return render_template("reports/phases.html", report=report, chart=chart, errors=errors, filters=raw,
                           programmes=scope.programme_choices(current_user, db.session))


@bp.post("/targets")
@login_required
@require(Permission.REPORT_TARGET_SET)
def set_programme_target():
    """A coach sets its programme's target for a year (the form on the registration page)."""
    data, errors = load_form(TargetSchema(only=("year", "expected")))
    if errors:
        flash(_("Enter a year and a number of participants (0 or more)."), "error")
    else:
        try:
            set_target(current_user, current_user.organisation_id, data["year"], data["expected"], utcnow())
            flash(_("The target for %(year)d is now %(expected)d participants.", year=data["year"],
                    expected=data["expected"]))
        except HubError as error:
            db.session.rollback()
            flash(error.message, "error")
    return redirect(url_for("reports.registration", organisation_id=current_user.organisation_id))
