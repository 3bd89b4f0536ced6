"""The web form for recording a consent: the API's schema, with a calendar day for "valid until"."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from marshmallow import ValidationError, fields, validate
from werkzeug.datastructures import MultiDict

from hub.clock import AMSTERDAM, local_today
from hub.consent.schemas import ConsentCreateSchema
from hub.labels import method_label
from hub.vocab import ConsentMethod, ConsentPurpose, LifeDomain


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


def default_statement() -> str:
    """What the client agrees to, in the words the forms offer to read out (the coach may change it)."""
    return _("I agree that the organisation named here may see the parts of my story ticked here, for the "
             "purpose named here. I can withdraw this consent at any time; it then stops at once.")


def method_options() -> list[tuple[str, str]]:
    return [(method.value, method_label(method)) for method in ConsentMethod]


# The fields of a consent recorded with a referral on the refer-on page, beside the referral's own.
REFERRAL_CONSENT_FIELDS = ("method", "statement", "valid_until")


def referral_consent(form: MultiDict, organisation_id: int, domain: LifeDomain) -> tuple[dict | None, dict]:
    """The consent a refer-on form records with its referral: the partner chosen may see the life
    domain, for a referral; how the client agreed, to what, and until when, from the form's
    `consent_*` fields. (data ready for `record_consent`, None) or (None, errors by field name)."""
    body = {name: (form.get(f"consent_{name}") or "").strip() for name in REFERRAL_CONSENT_FIELDS}
    body = {name: value for name, value in body.items() if value}
    body.update(recipient_organisation_id=organisation_id, purpose=ConsentPurpose.SERVICE_REFERRAL.value,
                scope=[domain.value])
    try:
        data = ConsentForm().load(body)
    except ValidationError as error:
        return None, {f"consent_{name}": messages for name, messages in error.normalized_messages().items()}
    data["valid_until"] = end_of(data["valid_until"])
    return data, {}


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
