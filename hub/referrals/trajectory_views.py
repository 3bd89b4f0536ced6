"""The trajectory in the web interface, on the dossier: start the next phase, add a plan goal, change
it, record a goal's progress, close the trajectory, and open a new one when the client comes back
(re-entry). Each form posts here and comes back to the dossier; one with mistakes is shown again,
open, on the dossier (`dossier_page`). Thin: parse, call the service, redirect. The same rules as the API
(hub/referrals/trajectory_api.py): coaches of the client's programme, under the handoff consent
(`client_for_coach`, `trajectory_for`, `goal_for`)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub.auth.permissions import Permission, require
from hub.clock import utcnow
from hub.errors import HubError
from hub.forms import friendly, load_body, load_form
from hub.labels import label_helpers, phase_label
from hub.referrals import trajectory
from hub.referrals.service import client_for_coach
from hub.referrals.trajectory_schemas import (
    MAX_SUBGOALS,
    CloseSchema,
    GoalCreateSchema,
    GoalReviseSchema,
    PhaseStartSchema,
    ProgressSchema,
    TrajectoryOpenSchema,
)
from hub.referrals.views import dossier_page
from hub.rights.words import word

bp = Blueprint("trajectory", __name__)
bp.context_processor(label_helpers)  # the dossier is shown again from here: with its own helpers


def _submit(client_id: int, posted: str, parsed: tuple[dict | None, dict], act):
    """The form's parsed data to `act` (the service call; it returns what to tell the coach), then back
    to the dossier; or, when the form does not parse or the service refuses, the dossier again with
    that form open and its mistakes (422, or the refusal's status: 409 when the trajectory moved on)."""
    data, errors = parsed
    status = 422
    if data is not None:
        try:
            done = act(data)
        except HubError as error:
            errors, status = {"_form": [error.message], **error.fields}, error.status
        else:
            flash(done, "info")
            return redirect(url_for("referrals.dossier", client_id=client_id, _anchor="trajectory"))
    return dossier_page(client_id, _flat(errors), status, posted=posted)


def _flat(errors: dict) -> dict:
    """A field's errors said per item (a sub-goal's line, a ticked box) as the field's own messages."""
    def leaves(value):
        if isinstance(value, dict):
            for item in value.values():
                yield from leaves(item)
        elif isinstance(value, list | tuple):
            for item in value:
                yield from leaves(item)
        else:
            yield friendly(str(value))

    return {name: list(dict.fromkeys(leaves(messages))) if isinstance(messages, dict) else messages
            for name, messages in errors.items()}


@bp.post("/trajectories/<int:trajectory_id>/phases")
@login_required
@require(Permission.TRAJECTORY_MANAGE)
def start_phase(trajectory_id: int):
    """Start a phase (ending the current ones, unless it runs next to them)."""
    now = utcnow()
    row, decision = trajectory.trajectory_for(current_user, trajectory_id, now, for_update=True)

    def act(data):
        trajectory.start_phase(current_user, row, decision, data.pop("phase"), now, **data)
        return _("The trajectory is now in: %(phases)s.",
                 phases=", ".join(phase_label(period.phase) for period in row.current_phases))
    return _submit(row.client_id, "phase", load_form(PhaseStartSchema), act)


@bp.post("/trajectories/<int:trajectory_id>/goals")
@login_required
@require(Permission.TRAJECTORY_MANAGE)
def add_goal(trajectory_id: int):
    """Add a plan goal: a life domain, the score now, the target score, a deadline, sub-goals (one a line)."""
    now = utcnow()
    row, decision = trajectory.trajectory_for(current_user, trajectory_id, now, for_update=True)
    form = request.form
    steps = _lines(form.get("subgoals", ""))
    body = {name: form[name] for name in ("domain", "description", "score", "target", "deadline")
            if form.get(name, "").strip()}
    parsed = load_body(GoalCreateSchema, {**body, "subgoals": [{"text": text} for text in steps]})
    if len(steps) > MAX_SUBGOALS:
        parsed = None, {**parsed[1], "subgoals": [_("Give at most %(count)s.", count=MAX_SUBGOALS)]}

    def act(data):
        goal = trajectory.add_goal(current_user, row, decision, data, now)
        return _("The goal for %(domain)s is added.", domain=word("domain", goal.domain))
    return _submit(row.client_id, "goal", parsed, act)


@bp.post("/goals/<int:goal_id>/revise")
@login_required
@require(Permission.TRAJECTORY_MANAGE)
def revise_goal(goal_id: int):
    """Change a goal as the plan changes: target, deadline, description, more sub-goals (one a line)."""
    now = utcnow()
    goal, decision = trajectory.goal_for(current_user, goal_id, now)
    form = request.form
    steps = _lines(form.get("add_subgoals", ""))
    body = {name: form[name] for name in ("target", "deadline") if form.get(name, "").strip()}
    body["description"] = form.get("description", "").strip() or None
    if steps:
        body["add_subgoals"] = [{"text": text} for text in steps]

    def act(data):  # how many sub-goals fit is the service's to say, with those the goal has
        if not trajectory.revise_goal(current_user, goal, decision, data, now):
            return _("Nothing was changed.")
        return _("The goal for %(domain)s is changed.", domain=word("domain", goal.domain))
    return _submit(goal.trajectory.client_id, f"revise-{goal.id}", load_body(GoalReviseSchema, body), act)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


@bp.post("/goals/<int:goal_id>/progress")
@login_required
@require(Permission.TRAJECTORY_MANAGE)
def record_progress(goal_id: int):
    """A new score for a goal (the earlier ones stay), a note, and the sub-goals done."""
    now = utcnow()
    goal, decision = trajectory.goal_for(current_user, goal_id, now)
    form = request.form
    body = {name: form[name] for name in ("score", "note") if form.get(name, "").strip()}

    def act(data):
        trajectory.record_progress(current_user, goal, decision, data.pop("score"), now, **data)
        return _("The progress is recorded.")
    return _submit(goal.trajectory.client_id, f"progress-{goal.id}",
                   load_body(ProgressSchema, {**body, "subgoals_done": form.getlist("subgoals_done")}), act)


@bp.post("/trajectories/<int:trajectory_id>/close")
@login_required
@require(Permission.TRAJECTORY_MANAGE)
def close(trajectory_id: int):
    """Close the trajectory with its outcome and date."""
    now = utcnow()
    row, decision = trajectory.trajectory_for(current_user, trajectory_id, now, for_update=True)

    def act(data):
        trajectory.close_trajectory(current_user, row, decision.ground, now, **data)
        return _("The trajectory is closed: %(outcome)s.", outcome=word("outcome", row.outcome))
    return _submit(row.client_id, "close", load_form(CloseSchema), act)


@bp.post("/clients/<int:client_id>/trajectories")
@login_required
@require(Permission.TRAJECTORY_MANAGE)
def reenter(client_id: int):
    """Re-entry: a new trajectory for a client whose last one ended; the story told before stays."""
    now = utcnow()
    client, decision = client_for_coach(current_user, client_id, now)

    def act(data):
        trajectory.reenter(current_user, client, decision, now, **data)
        return _("A new trajectory is open for %(alias)s.", alias=client.alias)
    return _submit(client.id, "reentry", load_form(TrajectoryOpenSchema(only=("opened_on", "phase"))), act)
