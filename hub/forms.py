"""Web forms are validated by the same marshmallow schemas as the API (CSRF by Flask-WTF)."""
from __future__ import annotations

import re

from flask import request
from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, ValidationError

RANGE = re.compile(r"Must be greater than or equal to (-?\d+) and less than or equal to (-?\d+)\.")
LONGER = re.compile(r"Longer than maximum length (\d+)\.")
LATEST_DAY = re.compile(r"Must be less than or equal to (\d{4}-\d{2}-\d{2})\.")


def friendly(message: str) -> str:
    """marshmallow's English message in the words of the interface, translated; one that means
    different things on different forms ("Length must be between ...": characters, or items of a
    list) is left to the form's own wording (`hub.referrals.forms`, `service_referral_forms`)."""
    if message in ("Missing data for required field.", "Field may not be null.", "Shorter than minimum length 1."):
        return _("Fill this in.")
    if message == "Not a valid integer.":
        return _("Enter a whole number.")
    if message.startswith("Must be one of") or message == "Not a valid boolean.":
        return _("Choose one of the options.")
    if message.startswith("Not a valid datetime"):
        return _("Enter a date and a time.")
    if message.startswith("Not a valid date"):
        return _("Enter a date.")
    if match := RANGE.fullmatch(message):
        return _("Enter a number from %(low)s to %(high)s.", low=match[1], high=match[2])
    if match := LONGER.fullmatch(message):
        return _("Use at most %(count)s characters.", count=match[1])
    if match := LATEST_DAY.fullmatch(message):
        return _("No later than %(day)s.", day=match[1])
    return message


def load_form(schema: Schema | type[Schema]) -> tuple[dict | None, dict]:
    """Validate the posted form: (data, {}) or (None, {field: [messages]}), the messages of a flat
    form's fields in the reader's language."""
    return load_body(schema, {k: v for k, v in request.form.items() if k != "csrf_token" and v != ""})


def load_body(schema: Schema | type[Schema], body: dict) -> tuple[dict | None, dict]:
    """`load_form` for a body the view built from its form (a list from several fields or lines)."""
    if isinstance(schema, type):
        schema = schema()
    try:
        return schema.load(body, unknown=EXCLUDE), {}
    except ValidationError as error:
        return None, {name: [friendly(str(m)) for m in messages] if isinstance(messages, list) else messages
                      for name, messages in error.normalized_messages().items()}


def safe_next(target: str | None, default: str) -> str:
    """Redirect only to a path on this site (no //host, no scheme). Control characters are refused
    too: browsers drop tabs and newlines from a URL, which turns "/<tab>/host" into "//host"."""
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not any(ord(c) < 0x20 or ord(c) == 0x7F for c in target)):
        return target
    return default
