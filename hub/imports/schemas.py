"""One marshmallow schema per kind of row: types, vocabularies, and the rules within one row (dates
in order, outcome with its date, a plausible birth year, nothing in the future). Empty cells are
missing values. Rules that need the database or other rows are in the import modules."""
from __future__ import annotations

from datetime import date

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from hub.referrals.models import TrajectoryOutcome
from hub.vocab import Gender, LegalStatus, LifeDomain, TargetGroup

TRAJECTORY_COLUMNS = ("programme_id", "client_ref", "entered_on", "outcome", "outcome_on", "gender", "birth_year",
                      "legal_status", "target_groups", "municipality")
SERVICE_REFERRAL_COLUMNS = ("programme_id", "client_ref", "partner_id", "domain", "requested_on", "received_on",
                            "intake_on", "started_on", "completed_on", "rejected_on")
# The steps of a service referral in the order they happen; each date on or after the ones before.
STEPS = ("requested_on", "received_on", "intake_on", "started_on", "completed_on")
OLDEST = 100  # years: a birth year further back than this before the trajectory is a typing error
YOUNGEST = 12  # years: nor one this close to it (minors do enter programmes, children do not)


class TargetGroups(fields.Field):
    """`a;b;c` -> ["a", "b", "c"], each a target group, sorted and without repeats."""

    def _deserialize(self, value, attr, data, **kwargs):
        names = sorted({part.strip() for part in str(value).split(";") if part.strip()})
        unknown = [name for name in names if name not in {g.value for g in TargetGroup}]
        if unknown:
            raise ValidationError(f"unknown target group {', '.join(unknown)}; use "
                                  f"{', '.join(g.value for g in TargetGroup)} separated by ';'")
        return names


class _Row(Schema):
    programme_id = fields.Integer(required=True, strict=False)
    client_ref = fields.String(required=True, validate=validate.Length(min=1, max=64))

    def __init__(self, today: date, **kwargs):
        super().__init__(**kwargs)
        self.today = today

    @pre_load
    def empty_cells_are_missing(self, data: dict, **_kwargs) -> dict:
        return {name: value for name, value in data.items() if value not in ("", None)}

    def _not_future(self, data: dict, names: tuple[str, ...]) -> None:
        late = {name: ["lies in the future"] for name in names if data.get(name) and data[name] > self.today}
        if late:
            raise ValidationError(late)


class TrajectoryRowSchema(_Row):
    entered_on = fields.Date(required=True)
    outcome = fields.Enum(TrajectoryOutcome, by_value=True, load_default=None)
    outcome_on = fields.Date(load_default=None)
    gender = fields.Enum(Gender, by_value=True, required=True)
    birth_year = fields.Integer(strict=False, load_default=None)
    legal_status = fields.Enum(LegalStatus, by_value=True, required=True)
    target_groups = TargetGroups(load_default=list)
    municipality = fields.String(load_default=None, validate=validate.Length(max=100))

    @validates_schema(skip_on_field_errors=False)  # all of a row's problems at once, as far as they can be known
    def rules(self, data: dict, **_kwargs) -> None:
        self._not_future(data, ("entered_on", "outcome_on"))
        entered_on, outcome_on = data.get("entered_on"), data.get("outcome_on")
        problems = {}
        if "outcome" in data and "outcome_on" in data and (data["outcome"] is None) != (outcome_on is None):
            problems["outcome"] = ["an outcome and its date (outcome_on) go together"]
        if outcome_on is not None and entered_on is not None and outcome_on < entered_on:
            problems["outcome_on"] = ["lies before entered_on"]
        born = data.get("birth_year")
        if born is not None and entered_on is not None and not (
                entered_on.year - OLDEST <= born <= entered_on.year - YOUNGEST):
            problems["birth_year"] = [f"not plausible for someone entering in {entered_on.year}: "
                                      f"expected {entered_on.year - OLDEST}-{entered_on.year - YOUNGEST}"]
        if problems:
            raise ValidationError(problems)


class ServiceReferralRowSchema(_Row):
    partner_id = fields.Integer(required=True, strict=False)
    domain = fields.Enum(LifeDomain, by_value=True, required=True)
    requested_on = fields.Date(required=True)
    received_on = fields.Date(load_default=None)
    intake_on = fields.Date(load_default=None)
    started_on = fields.Date(load_default=None)
    completed_on = fields.Date(load_default=None)
    rejected_on = fields.Date(load_default=None)

    @validates_schema(skip_on_field_errors=False)
    def rules(self, data: dict, **_kwargs) -> None:
        self._not_future(data, (*STEPS, "rejected_on"))
        if not all(name in data for name in (*STEPS, "rejected_on")):
            return  # a date that is not a date: the order is checked once it is one
        problems = {}
        earlier = ("requested_on", data["requested_on"])
        for name in STEPS[1:]:
            if data[name] is None:
                continue
            if data[name] < earlier[1]:
                problems[name] = [f"lies before {earlier[0]}"]
            earlier = (name, data[name])
        if data["completed_on"] is not None and data["started_on"] is None:
            problems.setdefault("completed_on", []).append("completed without started_on (help that never "
                                                           "started cannot complete)")
        if data["rejected_on"] is not None:
            if data["completed_on"] is not None:
                problems.setdefault("rejected_on", []).append("a referral is completed or rejected, not both")
            elif data["rejected_on"] < earlier[1]:
                problems.setdefault("rejected_on", []).append(f"lies before {earlier[0]}")
        if problems:
            raise ValidationError(problems)


def reasons(messages: dict) -> list[str]:
    """marshmallow's errors as `column: reason` lines (schema-wide ones without a column)."""
    lines = []
    for name, problems in sorted(messages.items(), key=lambda item: str(item[0])):
        for problem in problems if isinstance(problems, list) else [problems]:
            lines.append(problem if name == "_schema" else f"{name}: {problem}")
    return lines
