"""The web form for recording a consent: the API's schema, with a calendar day for "valid until"."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from marshmallow import fields, validate
from werkzeug.datastructures import MultiDict

from hub.clock import AMSTERDAM, local_today
from hub.consent.schemas import ConsentCreateSchema


class ConsentForm(ConsentCreateSchema):
    """As the API, but "valid until" is the last day the consent holds (the form has a date field),
    and it always starts now."""

    valid_until = fields.Date(load_default=None, allow_none=True,
                              validate=validate.Range(max=date(2099, 12, 31)))  # a real day; 9999-12-31 has no next

    class Meta:
        exclude = ("valid_from",)


def consent_body(form: MultiDict) -> dict:
    body = {name: (form.get(name) or "").strip() for name in
            ("recipient_organisation_id", "purpose", "method", "statement", "valid_until")}
    body = {name: value for name, value in body.items() if value}
    body["scope"] = form.getlist("scope")
    return body


def end_of(day: date | None) -> datetime | None:
    """A consent valid until (and including) `day` ends as the next day begins in the Netherlands: the
    client agreed to a Dutch day, not to UTC's, which runs an hour or two longer."""
    return datetime.combine(day + timedelta(days=1), time(), AMSTERDAM).astimezone(UTC) if day else None


def last_day(until: datetime | None) -> date | None:
    """The last (Dutch) day a consent holds, for display: the day before its end if it ends at midnight."""
    return local_today(until - timedelta(microseconds=1)) if until else None


def first_day(since: datetime) -> date:
    """The (Dutch) day a consent begins, for display."""
    return local_today(since)
