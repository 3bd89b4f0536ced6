"""What the report API accepts and answers."""
from __future__ import annotations

from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from hub.clock import utcnow
from hub.referrals.models import Phase
from hub.reports.bottlenecks import MEASURES, RANKINGS
from hub.reports.period import AMSTERDAM, MAX_DAYS, Period
from hub.reports.registration import COUNTS, SUPPRESSED
from hub.reports.waiting import GROUPS


class PeriodArgs(Schema):
    """`from` and `to` (inclusive dates); by default this year up to today."""

    first = fields.Date(data_key="from", metadata={"description": "First day (default: 1 January this year)"})
    last = fields.Date(data_key="to", metadata={"description": "Last day, inclusive (default: today)"})

    @validates_schema
    def check_period(self, data, **_kwargs):
        first, last = data.get("first"), data.get("last")
        if first and last and first > last:
            raise ValidationError(_("The period ends before it begins."), "from")
        if first and last and (last - first).days + 1 > MAX_DAYS:
            raise ValidationError(_("Choose a period of at most five years."), "from")

    @post_load
    def make_period(self, data, **_kwargs):
        default = Period.default(utcnow().astimezone(AMSTERDAM).date())
        last = data.pop("last", None) or default.last
        first = data.pop("first", None) or (default.first if last >= default.first else last.replace(month=1, day=1))
        if first > last:
            raise ValidationError(_("The period ends before it begins."), "from")
        if (last - first).days + 1 > MAX_DAYS:  # also when one end is the default (e.g. only `from`)
            raise ValidationError(_("Choose a period of at most five years."), "from")
        data["period"] = Period(first, last)
        return data


class WaitingArgs(PeriodArgs):
    group_by = fields.String(load_default="organisation", validate=validate.OneOf(GROUPS))


class BottleneckArgs(PeriodArgs):
    rank_by = fields.String(load_default="waiting_days", validate=validate.OneOf(RANKINGS))


class RegistrationArgs(PeriodArgs):
    organisation_id = fields.Integer(metadata={"description": "One exit programme; without it, all you may see"})


class PhaseFunnelArgs(PeriodArgs):
    organisation_id = fields.Integer(metadata={"description": "One exit programme; without it, all you may see"})


class TargetSchema(Schema):
    organisation_id = fields.Integer(required=True, metadata={"description": "The exit programme"})
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    expected = fields.Integer(required=True, validate=validate.Range(min=0, max=100_000),
                              metadata={"description": "Participants expected in that calendar year"})


class TargetOutSchema(TargetSchema):
    id = fields.Integer(required=True)
    set_at = fields.DateTime(required=True)


class PeriodSchema(Schema):
    first = fields.Date(data_key="from", attribute="from", required=True)
    last = fields.Date(data_key="to", attribute="to", required=True)


class WaitingItemSchema(Schema):
    organisation_id = fields.Integer(metadata={"description": "With group_by=organisation: the partner"})
    organisation_name = fields.String()
    domain = fields.String(metadata={"description": "With group_by=domain: the life domain"})
    count = fields.Integer(required=True, metadata={"description": "Referrals requested in the period"})
    started = fields.Integer(required=True, metadata={"description": "Of those, how many have started"})
    median_days = fields.Float(allow_none=True, metadata={
        "description": "Median wait over those that started, in whole Dutch calendar days from the request's day to "
                       "the start's day (percentile_cont, so it may fall between two whole days)"})
    p90_days = fields.Float(allow_none=True, metadata={"description": "90th percentile of the same (percentile_cont)"})
    open_waiting = fields.Integer(required=True, metadata={"description": "Now: open referrals not yet started"})
    longest_current_waits = fields.List(fields.Integer(), required=True, metadata={
        "description": "Now: the longest current waits, in whole days from the request's day to today (at most 5)"})


class WaitingReportSchema(Schema):
    period = fields.Nested(PeriodSchema, required=True)
    group_by = fields.String(required=True)
    items = fields.List(fields.Nested(WaitingItemSchema), required=True)


def _measure_fields() -> dict:
    return {name: (fields.Integer(required=True) if name == "escalations" else fields.Float(required=True))
            for name in MEASURES}


MeasuresSchema = Schema.from_dict(_measure_fields(), name="BottleneckMeasures")
MonthSchema = Schema.from_dict({"month": fields.String(required=True), **_measure_fields()}, name="BottleneckMonth")
BottleneckItemSchema = Schema.from_dict({
    "organisation_id": fields.Integer(required=True), "organisation_name": fields.String(required=True),
    **_measure_fields(), "months": fields.List(fields.Nested(MonthSchema), required=True)}, name="BottleneckItem")


class BottleneckReportSchema(Schema):
    period = fields.Nested(PeriodSchema, required=True)
    rank_by = fields.String(required=True)
    items = fields.List(fields.Nested(BottleneckItemSchema), required=True, metadata={
        "description": "Partners, ranked. waiting_days: client-days lost to waiting in the period; "
                       "partner_days + client_days + municipality_days: whose side they were on"})
    months = fields.List(fields.Nested(MonthSchema), required=True, metadata={"description": "All partners, per month"})
    totals = fields.Nested(MeasuresSchema, required=True)


CELL = {"description": f'A count; in breakdowns for chain directors "{SUPPRESSED}" when below 5'}
CellSchema = Schema.from_dict({"value": fields.String(required=True),
                               **{name: fields.Raw(required=True, metadata=CELL) for name in COUNTS}},
                              name="RegistrationCell")


class YearTargetSchema(Schema):
    year = fields.Integer(required=True)
    expected = fields.Integer(required=True)


class BreakdownsSchema(Schema):
    gender = fields.List(fields.Nested(CellSchema), required=True)
    legal_status = fields.List(fields.Nested(CellSchema), required=True)
    target_group = fields.List(fields.Nested(CellSchema), required=True)
    domain = fields.List(fields.Nested(CellSchema), required=True,
                         metadata={"description": "By the life domains of the trajectory plan's goals"})


class RegistrationSchema(Schema):
    period = fields.Nested(PeriodSchema, required=True)
    organisation_id = fields.Integer(allow_none=True)
    programmes = fields.Integer(required=True, metadata={"description": "How many programmes are summed"})
    expected = fields.Integer(allow_none=True, metadata={
        "description": "Participants expected: the yearly targets, for the share of each year the period covers"})
    expected_per_year = fields.List(fields.Nested(YearTargetSchema), required=True)
    inflow = fields.Integer(required=True,
                            metadata={"description": "Trajectories entered in the period (re-entries too)"})
    exited = fields.Integer(required=True)
    dropped_out = fields.Integer(required=True)
    moved = fields.Integer(required=True)
    other = fields.Integer(required=True)
    still_in_trajectory = fields.Integer(required=True)
    unique_clients = fields.Integer(required=True)
    suppressed = fields.Boolean(required=True, metadata={"description": "Whether small breakdown cells are hidden"})
    breakdowns = fields.Nested(BreakdownsSchema, required=True)


PHASE_CELL = {"description": f'A count of trajectories; for chain directors "{SUPPRESSED}" when below 5'}


class PhaseCountSchema(Schema):
    phase = fields.String(required=True, validate=validate.OneOf([phase.value for phase in Phase]))
    reached = fields.Raw(required=True, metadata={
        **PHASE_CELL, "description": PHASE_CELL["description"] + ". Trajectories that were in this phase at "
                                     "some time on or before the last day of the period"})
    current = fields.Raw(required=True, metadata={
        **PHASE_CELL, "description": PHASE_CELL["description"] + ". Trajectories in this phase on the last day"})


class PhaseFunnelSchema(Schema):
    period = fields.Nested(PeriodSchema, required=True)
    organisation_id = fields.Integer(allow_none=True)
    programmes = fields.Integer(required=True, metadata={"description": "How many programmes are summed"})
    trajectories = fields.Integer(required=True, metadata={
        "description": "Trajectories running at some time in the period (always exact)"})
    suppressed = fields.Boolean(required=True, metadata={"description": "Whether small phase counts are hidden"})
    phases = fields.List(fields.Nested(PhaseCountSchema), required=True,
                         metadata={"description": "Every phase, in the order of the trajectory"})
