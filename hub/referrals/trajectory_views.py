"""The trajectory in the web interface, on the dossier: start the next phase, add a plan goal, record a
goal's progress, close the trajectory, and open a new one when the client comes back (re-entry). Each
form posts here and comes back to the dossier; one with mistakes is shown again, open, on the dossier
(`dossier_page`). Thin: parse, call the service, redirect. The same rules as the API
(hub/referrals/trajectory_api.py): coaches of the client's programme, under the handoff consent
(`client_for_coach`, `trajectory_for`, `goal_for`)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub.auth.permissions import Permission, require
from hub.clock import utcnow
from hub.errors import HubError
from hub.forms import load_body, load_form
from hub.labels import label_helpers, phase_label
from hub.referrals import trajectory
from hub.referrals.service import client_for_coach
from hub.referrals.trajectory_schemas import (
    CloseSchema,
    GoalCreateSchema,
    PhaseStartSchema,
    ProgressSchema,
    TrajectoryOpenSchema,
)
from hub.referrals.views import dossier_page
from hub.rights.words import word

bp = Blueprint("trajectory", __name__)
bp.context_processor(label_helpers)  # the dossier is shown again from here: with its own helpers
MAX_SUBGOALS = 20


def _back(client_id: int, message: str):
    flash(message, "info")
    return redirect(url_for("referrals.dossier", client_id=client_id, _anchor="trajectory"))


def _refused(error: HubError) -> tuple[dict, int]:
    return {"_form": [error.message], **error.fields}, error.status


@bp.post("/trajectories/<int:trajectory_id>/phases")
@login_required
@require(Permission.TRAJECTORY_MANAGE)
def start_phase(trajectory_id: int):
    """Start a phase (ending the current ones, unless it runs next to them)."""
    now = utcnow()
    row, decision = trajectory.trajectory_for(current_user, trajectory_id, now, for_update=True)
    data, errors = load_form(PhaseStartSchema)
    status = 422
    if data is not None:
        try:
            trajectory.start_phase(current_user, row, decision, data.pop("phase"), now, **data)
        except HubError as error:
            errors, status = _refused(error)
        else:
            return _back(row.client_id, _("The trajectory is now in: %(phases)s.", phases=", ".join(
                phase_label(period.phase) for period in row.current_phases)))
    return dossier_page(row.client_id, errors, status, posted="phase")


@bp.post("/trajectories/<int:trajectory_id>/goals")
@login_required
@require(Permission.TRAJECTORY_MANAGE)
def add_goal(trajectory_id: int):
    """Add a plan goal: a life domain, the score now, the target score, a deadline, sub-goals (one a line)."""
    now = utcnow()
    row, decision = trajectory.trajectory_for(current_user, trajectory_id, now, for_update=True)
    form = request.form
    steps = [line.strip() for line in form.get("subgoals", "").splitlines() if line.strip()]
    body = {name: form[name] for name in ("domain", "description", "score", "target", "deadline")
            if form.get(name, "").strip()}
    body["subgoals"] = [{"text": text} for text in steps]
    data, errors = load_body(GoalCreateSchema, body)
    status = 422
    if len(steps) > MAX_SUBGOALS:
        errors, data = {**errors, "subgoals": [_("Give at most %(count)s.", count=MAX_SUBGOALS)]}, None
    if data is not None:
        try:
            goal = trajectory.add_goal(current_user, row, decision, data, now)
        except HubError as error:
            errors, status = _refused(error)
        else:
            return _back(row.client_id, _("The goal for %(domain)s is added.", domain=word("domain", goal.domain)))
    if isinstance(errors.get("subgoals"), dict):  # said per line by the schema: the form has one field
        errors["subgoals"] = [_("Keep each sub-goal to at most 500 characters.")]
    return dossier_page(row.client_id, errors, status, posted="goal")


@bp.post("/goals/<int:goal_id>/progress")
@login_required
@require(Permission.TRAJECTORY_MANAGE)
def record_progress(goal_id: int):
    """A new score for a goal (the earlier ones stay), a note, and the sub-goals done."""
    now = utcnow()
    goal, decision = trajectory.goal_for(current_user, goal_id, now)
    form = request.form
    body = {name: form[name] for name in ("score", "note") if form.get(name, "").strip()}
    body["subgoals_done"] = form.getlist("subgoals_done")
    data, errors = load_body(ProgressSchema, body)
    status = 422
    if data is not None:
        try:
            trajectory.record_progress(current_user, goal, decision, data.pop("score"), now, **data)
        except HubError as error:
            errors, status = _refused(error)
        else:
            return _back(goal.trajectory.client_id, _("The progress is recorded."))
    if isinstance(errors.get("subgoals_done"), dict):  # said per box by the schema: one list of boxes
        errors["subgoals_done"] = [_("Choose one of the options.")]
    return dossier_page(goal.trajectory.client_id, errors, status, posted=f"progress-{goal.id}")


@bp.post("/trajectories/<int:trajectory_id>/close")
@login_required
@require(Permission.TRAJECTORY_MANAGE)
def close(trajectory_id: int):
    """Close the trajectory with its outcome and date."""
    now = utcnow()
    row, decision = trajectory.trajectory_for(current_user, trajectory_id, now, for_update=True)
    data, errors = load_form(CloseSchema)
    status = 422
    if data is not None:
        try:
            trajectory.close_trajectory(current_user, row, decision.ground, now, **data)
        except HubError as error:
            errors, status = _refused(error)
        else:
            return _back(row.client_id, _("The trajectory is closed: %(outcome)s.",
                                          outcome=word("outcome", row.outcome)))
    return dossier_page(row.client_id, errors, status, posted="close")


@bp.post("/clients/<int:client_id>/trajectories")
@login_required
@require(Permission.TRAJECTORY_MANAGE)
def reenter(client_id: int):
    """Re-entry: a new trajectory for a client whose last one ended; the story told before stays."""
    now = utcnow()
    client, decision = client_for_coach(current_user, client_id, now)
    data, errors = load_form(TrajectoryOpenSchema(only=("opened_on", "phase")))
    status = 422
    if data is not None:
        try:
            trajectory.reenter(current_user, client, decision, now, **data)
        except HubError as error:
            errors, status = _refused(error)
        else:
            return _back(client.id, _("A new trajectory is open for %(alias)s.", alias=client.alias))
    return dossier_page(client.id, errors, status, posted="reentry")
