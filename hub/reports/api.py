"""`/api/v1/reports/...`: waiting times, bottlenecks, uniform registration, the phase funnel,
programme targets.
Thin: parse, call the service, answer."""
from flask_login import current_user

from hub.api import api_blueprint
from hub.auth.permissions import Permission, secured
from hub.clock import utcnow
from hub.reports import service
from hub.reports.schemas import (
    BottleneckArgs,
    BottleneckReportSchema,
    PhaseFunnelArgs,
    PhaseFunnelSchema,
    RegistrationArgs,
    RegistrationSchema,
    TargetOutSchema,
    TargetSchema,
    WaitingArgs,
    WaitingReportSchema,
)
from hub.reports.targets import set_target

blp = api_blueprint("reports_api", __name__,
                    "Pseudonymous reports for chain directors and coaches: waiting times, bottlenecks, "
                    "uniform registration, the phase funnel.")


@blp.get("/reports/waiting-times")
@blp.arguments(WaitingArgs, location="query")
@blp.response(200, WaitingReportSchema)
@secured(blp, Permission.REPORT_READ)
def waiting_times(args):
    """Per partner organisation (`group_by=organisation`) or life domain (`group_by=domain`): referrals
    requested in the period, median and 90th percentile of the days from request to start of those
    that started (continuous percentiles), and now: how many wait and the longest current waits.
    A chain director sees the partners in its municipality; a coach its programme's referrals."""
    return service.waiting_time_report(current_user, args["group_by"], args["period"], utcnow())


@blp.get("/reports/bottlenecks")
@blp.arguments(BottleneckArgs, location="query")
@blp.response(200, BottleneckReportSchema)
@secured(blp, Permission.REPORT_READ)
def bottlenecks(args):
    """Partners ranked by client-days lost to waiting in the period (or `rank_by` partner-side days or
    escalations), split into the partner's, the client's and the municipality's side, per month."""
    return service.bottleneck_report(current_user, args["period"], utcnow(), args["rank_by"])


@blp.get("/reports/registration")
@blp.arguments(RegistrationArgs, location="query")
@blp.response(200, RegistrationSchema)
@blp.alt_response(404, description="No such exit programme, or not yours to see")
@secured(blp, Permission.REPORT_READ)
def registration(args):
    """The uniform registration of one exit programme, or of all you may see summed: expected,
    inflow, exited, dropped out, moved, other, still in a trajectory, unique clients; by gender,
    legal position, target group and life domain (small cells "<5" for chain directors)."""
    return service.registration_report(current_user, args.get("organisation_id"), args["period"])


@blp.get("/reports/phase-funnel")
@blp.arguments(PhaseFunnelArgs, location="query")
@blp.response(200, PhaseFunnelSchema)
@blp.alt_response(404, description="No such exit programme, or not yours to see")
@secured(blp, Permission.REPORT_READ)
def phase_funnel(args):
    """The phases as a funnel, for one exit programme or all you may see summed: per phase of the
    trajectory (contact, orientation, execution, aftercare), how many of the trajectories running in
    the period reached it by the last day, and how many were in it on that day (counts below 5 as
    "<5" for chain directors)."""
    return service.phase_funnel_report(current_user, args.get("organisation_id"), args["period"])


@blp.post("/reports/targets")
@blp.arguments(TargetSchema)
@blp.response(200, TargetOutSchema)
@blp.alt_response(403, description="Not a coach of this programme, nor an administrator")
@blp.alt_response(422, description="Not an exit programme, or a year or number out of range")
@secured(blp, Permission.REPORT_TARGET_SET)
def set_programme_target(data):
    """Set (or replace) the participants a programme expects in a calendar year."""
    return set_target(current_user, data["organisation_id"], data["year"], data["expected"], utcnow())
