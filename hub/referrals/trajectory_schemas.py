"""What the trajectory and caseload API accept and answer (coaches only). Dates are calendar
dates (`YYYY-MM-DD`) in the Netherlands ("today" is the Dutch day); moments are ISO 8601 with zone."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from hub.api import PageArgsSchema, PageSchema
from hub.referrals.models import ExitDestination, Phase, TrajectoryOutcome
from hub.vocab import LifeDomain

MAX_SUBGOALS = 20  # per goal
SCORE = {"validate": validate.Range(min=1, max=10), "metadata": {"description": "1 (very bad) to 10 (very good)"}}
NOTE = fields.String(validate=validate.Length(max=5000), allow_none=True, load_default=None,
                     metadata={"description": "Free text, encrypted at rest"})


class TrajectoryOpenSchema(Schema):
    opened_on = fields.Date(load_default=None, allow_none=True, metadata={"description": "Today unless given"})
    phase = fields.Enum(Phase, by_value=True, load_default=Phase.CONTACT)
    note = NOTE


class PhaseStartSchema(Schema):
    phase = fields.Enum(Phase, by_value=True, required=True)
    started_on = fields.Date(load_default=None, allow_none=True,
                             metadata={"description": "Today unless given; never in the future"})
    parallel = fields.Boolean(load_default=False,
                              metadata={"description": "Run next to the current phases instead of ending them"})
    note = NOTE


class SubGoalInSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=500))
    deadline = fields.Date(load_default=None, allow_none=True)


class GoalCreateSchema(Schema):
    domain = fields.Enum(LifeDomain, by_value=True, required=True)
    description = NOTE
    score = fields.Integer(required=True, **SCORE)
    target = fields.Integer(required=True, **SCORE)
    deadline = fields.Date(required=True)
    subgoals = fields.List(fields.Nested(SubGoalInSchema), load_default=list,
                           validate=validate.Length(max=MAX_SUBGOALS))


class GoalReviseSchema(Schema):
    """What changes as the plan is revised; only what is sent. The scores change only by progress."""

    description = fields.String(validate=validate.Length(max=5000), allow_none=True,
                                metadata={"description": "Free text, encrypted at rest; null removes it"})
    target = fields.Integer(**SCORE)
    deadline = fields.Date()
    add_subgoals = fields.List(fields.Nested(SubGoalInSchema), validate=validate.Length(min=1, max=MAX_SUBGOALS),
                               metadata={"description": "Sub-goals added after the ones there are"})

    @validates_schema
    def _changes_something(self, data, **_kwargs):
        if not data:
            raise ValidationError("Send at least one of description, target, deadline or add_subgoals.")


class ProgressSchema(Schema):
    score = fields.Integer(required=True, **SCORE)
    note = NOTE
    subgoals_done = fields.List(fields.Integer(validate=validate.Range(min=1)), load_default=list,
                                validate=validate.Length(max=20))


class CloseSchema(Schema):
    outcome = fields.Enum(TrajectoryOutcome, by_value=True, required=True)
    destination = fields.Enum(ExitDestination, by_value=True, load_default=None, allow_none=True,
                              metadata={"description": "Required when the outcome is `exited`"})
    closed_on = fields.Date(required=True)
    note = NOTE


class PhaseOutSchema(Schema):
    id = fields.Integer(required=True)
    phase = fields.Enum(Phase, by_value=True, required=True)
    started_on = fields.Date(required=True)
    ended_on = fields.Date(allow_none=True)
    note = fields.String(allow_none=True)


class ProgressOutSchema(Schema):
    id = fields.Integer(required=True)
    score = fields.Integer(required=True)
    note = fields.String(allow_none=True)
    recorded_at = fields.AwareDateTime(required=True)
    recorded_by_id = fields.Integer(required=True)


class SubGoalOutSchema(Schema):
    id = fields.Integer(required=True)
    text = fields.String(required=True)
    deadline = fields.Date(allow_none=True)
    done_on = fields.Date(allow_none=True)


class GoalSchema(Schema):
    id = fields.Integer(required=True)
    trajectory_id = fields.Integer(required=True)
    domain = fields.Enum(LifeDomain, by_value=True, required=True)
    description = fields.String(allow_none=True)
    start_score = fields.Integer(required=True, metadata={"description": "The score when the goal was set"})
    score = fields.Integer(required=True, metadata={"description": "The latest score"})
    target = fields.Integer(required=True)
    deadline = fields.Date(allow_none=True)
    achieved_on = fields.Date(allow_none=True, metadata={"description": "Set while the score reaches the target"})
    subgoals = fields.List(fields.Nested(SubGoalOutSchema), required=True)
    progress = fields.List(fields.Nested(ProgressOutSchema), required=True,
                           metadata={"description": "Every score update, oldest first"})


class TrajectorySchema(Schema):
    id = fields.Integer(required=True)
    client_id = fields.Integer(required=True)
    number = fields.Integer(required=True, metadata={"description": "1, then 2 for the first re-entry, ..."})
    previous_id = fields.Integer(allow_none=True)
    handoff_id = fields.Integer(allow_none=True, metadata={"description": "None for imported history"})
    imported_at = fields.DateTime(allow_none=True, metadata={"description": "Set for history imported from a "
                                                                            "programme's spreadsheet"})
    opened_on = fields.Date(required=True)
    closed_on = fields.Date(allow_none=True)
    outcome = fields.Enum(TrajectoryOutcome, by_value=True, allow_none=True)
    destination = fields.Enum(ExitDestination, by_value=True, allow_none=True)
    closing_note = fields.String(allow_none=True)
    current_phases = fields.Method("current", metadata={"description": "The phases running now (two at once "
                                                                       "is possible)"})
    phases = fields.List(fields.Nested(PhaseOutSchema), required=True,
                         metadata={"description": "Every phase period, oldest first: fall-backs and overlaps "
                                                  "included"})
    goals = fields.List(fields.Nested(GoalSchema), required=True)

    def current(self, trajectory) -> list[str]:
        return [period.phase.value for period in trajectory.current_phases]


class TrajectoryPageSchema(PageSchema):
    items = fields.List(fields.Nested(TrajectorySchema), required=True)


class CurrentPhaseSchema(Schema):
    phase = fields.Enum(Phase, by_value=True, required=True)
    started_on = fields.Date(required=True)
    days = fields.Integer(required=True)


class CaseloadEntrySchema(Schema):
    client_id = fields.Integer(required=True)
    alias = fields.String(required=True)
    trajectory_id = fields.Integer(required=True)
    opened_on = fields.Date(required=True)
    coach_id = fields.Integer(required=True)
    backup_coach_id = fields.Integer(allow_none=True)
    as_backup = fields.Boolean(required=True, metadata={"description": "You are the backup coach of this client"})
    phases = fields.List(fields.Nested(CurrentPhaseSchema), required=True)
    days_in_phase = fields.Integer(allow_none=True, metadata={"description": "Days since the latest current "
                                                                             "phase began"})
    open_goals = fields.Integer(required=True)
    next_deadline = fields.Date(allow_none=True)


class CaseloadPageSchema(PageSchema):
    items = fields.List(fields.Nested(CaseloadEntrySchema), required=True)


class CaseloadArgs(PageArgsSchema):
    coach_id = fields.Integer(validate=validate.Range(min=1), load_default=None,
                              metadata={"description": "A colleague whose clients you back up (while they are "
                                                       "absent); your own id for your own clients only"})
