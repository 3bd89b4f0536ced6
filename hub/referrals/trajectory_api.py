"""`/api/v1/clients/<id>/trajectories`, `/api/v1/trajectories/...`, `/api/v1/goals/...` and
`/api/v1/caseload`: the coach's side of the trajectory. Thin: parse, load-and-authorise, call."""
from flask_login import current_user

from hub.api import PageArgsSchema, api_blueprint
from hub.auth.permissions import Permission, secured
from hub.clock import utcnow
from hub.referrals import trajectory as service
from hub.referrals.service import client_for_coach
from hub.referrals.trajectory_schemas import (
    CaseloadArgs,
    CaseloadPageSchema,
    CloseSchema,
    GoalCreateSchema,
    GoalReviseSchema,
    GoalSchema,
    PhaseStartSchema,
    ProgressSchema,
    TrajectoryOpenSchema,
    TrajectoryPageSchema,
    TrajectorySchema,
)

blp = api_blueprint("trajectory_api", __name__,
                    "The trajectory: phases with their history, the plan's goals, the outcome; the caseload.")
NOT_YOURS = "No such client, trajectory or goal, or not your programme's (or no consent in force)"


@blp.get("/clients/<int:client_id>/trajectories")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, TrajectoryPageSchema)
@blp.alt_response(404, description=NOT_YOURS)
@secured(blp, Permission.TRAJECTORY_READ)
def list_trajectories(args, client_id):
    """The client's trajectories, newest first, each with its full phase history, goals and outcome."""
    now = utcnow()
    client, decision = client_for_coach(current_user, client_id, now)
    return service.client_trajectories(current_user, client, decision, args["page"], args["per_page"])


@blp.post("/clients/<int:client_id>/trajectories")
@blp.arguments(TrajectoryOpenSchema)
@blp.response(201, TrajectorySchema)
@blp.alt_response(404, description=NOT_YOURS)
@blp.alt_response(409, description="A trajectory is open still, or the handoff was never accepted")
@blp.alt_response(422, description="A date in the future, or before the previous trajectory ended")
@secured(blp, Permission.TRAJECTORY_MANAGE)
def reenter(data, client_id):
    """Re-entry: open a new trajectory for the same client, who keeps the story told before."""
    now = utcnow()
    client, decision = client_for_coach(current_user, client_id, now)
    return service.reenter(current_user, client, decision, now, **data)


@blp.post("/trajectories/<int:trajectory_id>/phases")
@blp.arguments(PhaseStartSchema)
@blp.response(201, TrajectorySchema)
@blp.alt_response(404, description=NOT_YOURS)
@blp.alt_response(409, description="The trajectory is closed, or the client is in that phase already")
@blp.alt_response(422, description="Unknown phase, or a start in the future or before the current phases")
@secured(blp, Permission.TRAJECTORY_MANAGE)
def start_phase(data, trajectory_id):
    """Start a phase: the current phases end that day unless `parallel`; an earlier phase is a fall-back."""
    now = utcnow()
    trajectory, decision = service.trajectory_for(current_user, trajectory_id, now, for_update=True)
    return service.start_phase(current_user, trajectory, decision, data.pop("phase"), now, **data)


@blp.post("/trajectories/<int:trajectory_id>/goals")
@blp.arguments(GoalCreateSchema)
@blp.response(201, GoalSchema)
@blp.alt_response(404, description=NOT_YOURS)
@blp.alt_response(409, description="The trajectory is closed")
@blp.alt_response(422, description="A score outside 1-10, an unknown life domain, a target not above the score, "
                                   "a deadline passed")
@secured(blp, Permission.TRAJECTORY_MANAGE)
def add_goal(data, trajectory_id):
    """Add a plan goal in one life domain: score now, target score, deadline, sub-goals."""
    now = utcnow()
    trajectory, decision = service.trajectory_for(current_user, trajectory_id, now, for_update=True)
    return service.add_goal(current_user, trajectory, decision, data, now)


@blp.patch("/goals/<int:goal_id>")
@blp.arguments(GoalReviseSchema)
@blp.response(200, GoalSchema)
@blp.alt_response(404, description=NOT_YOURS)
@blp.alt_response(409, description="The trajectory is closed")
@blp.alt_response(422, description="Nothing to change, a target not above the starting score, a deadline passed, "
                                   "more than 20 sub-goals")
@secured(blp, Permission.TRAJECTORY_MANAGE)
def revise_goal(data, goal_id):
    """Revise the goal as the plan changes: target, deadline, description, more sub-goals."""
    now = utcnow()
    goal, decision = service.goal_for(current_user, goal_id, now)
    service.revise_goal(current_user, goal, decision, data, now)
    return goal


@blp.post("/goals/<int:goal_id>/progress")
@blp.arguments(ProgressSchema)
@blp.response(201, GoalSchema)
@blp.alt_response(404, description=NOT_YOURS)
@blp.alt_response(409, description="The trajectory is closed")
@blp.alt_response(422, description="A score outside 1-10, or sub-goals of another goal")
@secured(blp, Permission.TRAJECTORY_MANAGE)
def record_progress(data, goal_id):
    """Record a new score for the goal (earlier scores stay, so progress shows) and sub-goals done."""
    now = utcnow()
    goal, decision = service.goal_for(current_user, goal_id, now)
    return service.record_progress(current_user, goal, decision, data.pop("score"), now, **data)


@blp.post("/trajectories/<int:trajectory_id>/close")
@blp.arguments(CloseSchema)
@blp.response(200, TrajectorySchema)
@blp.alt_response(404, description=NOT_YOURS)
@blp.alt_response(409, description="Closed already")
@blp.alt_response(422, description="An exit without destination, a destination without exit, a date in the "
                                   "future or before the current phase began")
@secured(blp, Permission.TRAJECTORY_MANAGE)
def close(data, trajectory_id):
    """Close the trajectory with its outcome and date."""
    now = utcnow()
    trajectory, decision = service.trajectory_for(current_user, trajectory_id, now, for_update=True)
    return service.close_trajectory(current_user, trajectory, decision.ground, now, **data)


@blp.get("/caseload")
@blp.arguments(CaseloadArgs, location="query")
@blp.response(200, CaseloadPageSchema)
@blp.alt_response(422, description="`coach_id` is not a coach of your programme")
@secured(blp, Permission.TRAJECTORY_READ)
def caseload(args):
    """Your clients with an open trajectory, as coach or as backup coach (marked `as_backup`):
    current phases, days in phase, open goals, next deadline; nearest deadline first."""
    return service.caseload(current_user, utcnow(), args["page"], args["per_page"], coach_id=args["coach_id"])
