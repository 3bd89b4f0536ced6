"""Web forms are validated by the same marshmallow schemas as the API (CSRF by Flask-WTF)."""
from __future__ import annotations

from flask import request
from marshmallow import EXCLUDE, Schema, ValidationError


def load_form(schema: Schema | type[Schema]) -> tuple[dict | None, dict]:
    """Validate the posted form: (data, {}) or (None, {field: [messages]})."""
    if isinstance(schema, type):
        schema = schema()
    try:
        values = {k: v for k, v in request.form.items() if k != "csrf_token" and v != ""}
        return schema.load(values, unknown=EXCLUDE), {}
    except ValidationError as error:
        return None, error.normalized_messages()


def safe_next(target: str | None, default: str) -> str:
    """Redirect only to a path on this site (no //host, no scheme). Control characters are refused
    too: browsers drop tabs and newlines from a URL, which turns "/<tab>/host" into "//host"."""
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not any(ord(c) < 0x20 or ord(c) == 0x7F for c in target)):
        return target
    return default
