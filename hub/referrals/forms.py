"""The web forms of the handoff: a flat HTML form turned into the API's nested body, so that the
same schema (HandoffCreateSchema) validates both; and the errors turned back to the form's fields."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from flask_babel import gettext as _
from marshmallow import Schema, fields
from werkzeug.datastructures import MultiDict

from hub.clock import local_today
from hub.forms import friendly as common_friendly
from hub.vocab import LifeDomain

DOMAIN_PARTS = ("score", "wish", "notes")


def _text(form: MultiDict, name: str) -> str | None:
    value = (form.get(name) or "").strip()
    return value or None


def _present(values: dict) -> dict:
    """Leave out what the form left empty, so that the schema says "required" rather than "null"."""
    return {key: value for key, value in values.items() if value is not None}


def handoff_body(form: MultiDict) -> dict:
    """The handoff form's fields (`client.alias`, `domain.housing.score`, ...) as the API's body."""
    languages = [part.strip() for part in (form.get("client.languages") or "").split(",") if part.strip()]
    domains = []
    for domain in LifeDomain:
        entry = {part: _text(form, f"domain.{domain.value}.{part}") for part in DOMAIN_PARTS}
        if any(value is not None for value in entry.values()):
            domains.append(_present({"domain": domain.value, **entry}))
    return _present({
        "to_organisation_id": _text(form, "to_organisation_id"),
        "urgency": _text(form, "urgency"),
        "client": _present({
            "alias": _text(form, "client.alias"), "gender": _text(form, "client.gender"),
            "birth_year": _text(form, "client.birth_year"), "languages": languages,
            "municipality_of_residence": _text(form, "client.municipality_of_residence"),
            "municipality_of_work": _text(form, "client.municipality_of_work"),
            "legal_status": _text(form, "client.legal_status"),
            "target_groups": form.getlist("client.target_groups"),
        }),
        "safe_contact": _present({
            "channel": _text(form, "safe_contact.channel"), "times": _text(form, "safe_contact.times"),
            "never_call": form.get("safe_contact.never_call") == "1",
            "code_word": _text(form, "safe_contact.code_word"),
            "no_letters_home": form.get("safe_contact.no_letters_home") == "1",
        }),
        "safety_concerns": _text(form, "safety_concerns"),
        "consent": _present({"method": _text(form, "consent.method"), "statement": _text(form, "consent.statement"),
                             "scope": form.getlist("consent.scope")}),
        "story": _present({"summary": _text(form, "story.summary"), "domains": domains}),
    })


def form_errors(errors: dict, body: dict | None = None, consent_prefix: bool = False) -> dict[str, list[str]]:
    """Nested schema or service errors as {form field name: [messages]}, in the reader's language.

    `story.domains.<index>` becomes `domain.<name>` (by the `body` that was validated); a list item's
    error belongs to its list field; with `consent_prefix`, the consent service's bare field names
    (it names `scope`, not `consent.scope`) get the prefix of the handoff form.
    """
    domains = [entry["domain"] for entry in (body or {}).get("story", {}).get("domains", [])]
    flat: dict[str, list[str]] = {}
    for path, messages in _walk(errors, ()):
        if path[:2] == ("story", "domains") and len(path) > 2 and isinstance(path[2], int) \
                and path[2] < len(domains):
            path = ("domain", domains[path[2]], *path[3:])
        while path and isinstance(path[-1], int):  # e.g. client.languages.0
            path = path[:-1]
        if consent_prefix and path and path[0] in CONSENT_FIELDS:
            path = ("consent", *path)
        flat.setdefault(".".join(str(part) for part in path) or "_form", []).extend(
            friendly(message) for message in messages)
    return flat


CONSENT_FIELDS = {"scope", "statement", "method", "valid_until"}


def _walk(errors, path: tuple):
    if isinstance(errors, dict):
        for key, value in errors.items():
            yield from _walk(value, path + ((key,) if key != "_schema" else ()))
    elif isinstance(errors, list | tuple):
        if all(isinstance(item, str) for item in errors):
            yield path, list(errors)
        else:
            for item in errors:
                yield from _walk(item, path)
    else:
        yield path, [str(errors)]


TOO_MANY = re.compile(r"Length must be between \d+ and (\d+)\.")


def friendly(message: str) -> str:
    """marshmallow's English messages, in the words of the interface (and translated); a list's
    length is counted in items."""
    if message == "Choose at least one.":
        return _("Choose at least one.")
    if message.startswith("Unknown scope item"):
        return _("Choose one of the options.")
    if match := TOO_MANY.fullmatch(message):
        return _("Give at most %(count)s.", count=match[1])
    return common_friendly(message)


# --- the coach's decisions on the handoff page ---------------------------------------------------

class FirstContactForm(Schema):
    on = fields.Date(required=True)


def moment_on(day: date, now: datetime, earliest: datetime) -> datetime:
    """A day picked in a form (a Dutch day) as a moment: noon (UTC) that day, but on the day itself never
    later than now, and on the handoff's own day never before the handoff."""
    moment = datetime.combine(day, time(12), UTC)
    if day == local_today(now):
        moment = min(moment, now)
    if day == local_today(earliest):
        moment = max(moment, earliest)
    return moment
