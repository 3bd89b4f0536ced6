"""The read log: who read or changed which part of a client's data, when and on what ground, in
plain words, built from the audit trail (NEN 7513 asks the log; the client may ask to see it).

An entry names the organisation and its role, never the person: staff are not exposed to the
client, and the organisation is who answers for the access. Refused attempts are shown too: the
client may want to know who tried.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime

from babel.dates import format_date, format_datetime, format_time
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from hub.audit.models import AuditAction, AuditEvent, AuditResult, events_about
from hub.clock import AMSTERDAM
from hub.consent.models import Consent
from hub.extensions import db
from hub.labels import role_label
from hub.partners.models import Organisation

# The part of the data an event touched, by the subject of its tag (`source:subject:action`).
PART_OF_SUBJECT = {
    "handoff": "handoff", "dossier": "file", "client": "file", "caseload": "caseload",
    "consent": "consents", "consents": "consents", "trajectory": "trajectory", "goal": "trajectory",
    "service_referral": "service_referral", "message": "messages", "messages": "messages",
    "read_log": "read_log", "export": "everything", "erasure": "erased", "retention": "erased",
    "legal_hold": "legal_hold", "rights": "rights", "handoffs": "handoff", "service_referrals": "service_referral",
    "escalations": "service_referral",
}
PARTS = {
    "handoff": _l("your handoff to the exit programme"),
    "file": _l("your file (story, situation and contact details, as far as you agreed)"),
    "caseload": _l("your name and phase in the coach's list of clients"),
    "consents": _l("your consents"),
    "trajectory": _l("your trajectory and plan"),
    "service_referral": _l("a referral to a service partner"),
    "messages": _l("messages about a referral"),
    "read_log": _l("this list of who saw your data"),
    "everything": _l("all your data"),
    "legal_hold": _l("the legal hold on your data"),
    "erased": _l("your story, notes, messages and contact details"),
    "rights": _l("your requests to see or erase your data, and the legal hold"),
    "data": _l("your data"),
}
SENTENCES = {
    AuditAction.READ: _l("%(who)s read %(part)s."),
    AuditAction.SEARCH: _l("%(who)s looked up %(part)s."),
    AuditAction.CREATE: _l("%(who)s recorded %(part)s."),
    AuditAction.UPDATE: _l("%(who)s changed %(part)s."),
    AuditAction.DELETE: _l("%(who)s erased %(part)s."),
    AuditAction.EXPORT: _l("%(who)s made a copy of %(part)s."),
}
# An attempt that was refused, by what was attempted: a coach refused a referral tried to send one,
# not to see one.
REFUSED_SENTENCES = {
    AuditAction.READ: _l("%(who)s tried to see %(part)s, but was refused."),
    AuditAction.SEARCH: _l("%(who)s tried to look up %(part)s, but was refused."),
    AuditAction.CREATE: _l("%(who)s tried to record %(part)s, but was refused."),
    AuditAction.UPDATE: _l("%(who)s tried to change %(part)s, but was refused."),
    AuditAction.DELETE: _l("%(who)s tried to erase %(part)s, but was refused."),
    AuditAction.EXPORT: _l("%(who)s tried to make a copy of %(part)s, but was refused."),
}
# Where the general sentence would say it less well.
SPECIAL = {
    "rights:legal_hold:set": _l("%(who)s put your data under a legal hold: nothing is erased while it lasts."),
    "rights:legal_hold:restated": _l("%(who)s changed the reason of the legal hold on your data."),
    "rights:legal_hold:cleared": _l("%(who)s lifted the legal hold on your data."),
    "rights:erasure:held": _l("%(who)s recorded your request to erase your data; it waits until the legal hold is "
                              "lifted."),
}
PURPOSES = {
    "handoff": _l("the handoff to the exit programme"),
    "service_referral": _l("a referral to a service partner"),
    "statistics": _l("statistics without your name"),
}


@dataclass
class Entry:
    """One audit event about the client, in words."""

    event: AuditEvent
    who: str
    part: str
    text: str
    ground_kind: str  # consent, role, request, retention, none; refused (the attempt was not allowed)
    ground_text: str
    consent_id: int | None
    organisation_name: str | None

    @property
    def local_time(self) -> datetime:
        return self.event.occurred_at.astimezone(AMSTERDAM)

    def as_dict(self) -> dict:
        event = self.event
        return {
            "occurred_at": event.occurred_at.isoformat(),
            "organisation": ({"id": event.organisation_id, "name": self.organisation_name}
                             if event.organisation_id is not None else None),
            "role": event.user_role, "part": self.part, "action": event.action.value, "result": event.result.value,
            "ground": {"kind": self.ground_kind, "consent_id": self.consent_id, "text": self.ground_text},
            "who": self.who, "text": self.text,
        }


def events_query(client_id: int) -> Select:
    """The client's audit events, newest first: those naming the client, and the list reads that
    showed the client (an inbox, a queue, an overview; through their subjects)."""
    return (select(AuditEvent).where(AuditEvent.id.in_(events_about(client_id)))
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()))


def describe(events: list[AuditEvent]) -> list[Entry]:
    """The events in words, in the current locale: two queries for any number of events."""
    organisation_ids = {e.organisation_id for e in events if e.organisation_id is not None}
    names = dict(db.session.execute(select(Organisation.id, Organisation.name)
                                    .where(Organisation.id.in_(organisation_ids))).all()) if organisation_ids else {}
    consent_ids = {_consent_id(e.ground) for e in events} - {None}
    consents = {row.id: row for row in db.session.execute(
        select(Consent.id, Consent.purpose, Consent.recorded_at).where(Consent.id.in_(consent_ids)))} \
        if consent_ids else {}
    return [_entry(event, names, consents) for event in events]


def _consent_id(ground: str | None) -> int | None:
    if ground and ground.startswith("consent:") and ground[8:].isdigit():
        return int(ground[8:])
    return None


def _who(event: AuditEvent, names: dict[int, str]) -> tuple[str, str | None]:
    if event.user_id is None and event.organisation_id is None:
        return _("The hub itself (automatically)"), None
    name = names.get(event.organisation_id)
    shown = name or _("An organisation that no longer exists")
    if event.user_role:
        return _("%(organisation)s (%(role)s)", organisation=shown, role=role_label(event.user_role)), name
    return shown, name


def _ground(ground: str | None, consents: dict) -> tuple[str, str, int | None]:
    consent_id = _consent_id(ground)
    if consent_id is not None:
        consent = consents.get(consent_id)
        if consent is None:
            return "consent", _("with your consent (number %(id)s)", id=consent_id), consent_id
        purpose = PURPOSES.get(getattr(consent.purpose, "value", consent.purpose), consent.purpose)
        return "consent", _("with your consent of %(date)s for %(purpose)s", date=local_date(consent.recorded_at),
                            purpose=purpose), consent_id
    if ground and ground.startswith("role:"):
        return "role", _("for their task as %(role)s, without needing your consent for it",
                         role=role_label(ground[5:])), None
    if ground and ground.startswith("request:"):
        return "request", _("at your request"), None
    if ground == "retention":
        return "retention", _("because the retention period had passed"), None
    return "none", _("no ground was recorded"), None


def _entry(event: AuditEvent, names: dict[int, str], consents: dict) -> Entry:
    who, organisation_name = _who(event, names)
    subject = event.tag.split(":")[1] if event.tag.count(":") >= 2 else ""
    part = PART_OF_SUBJECT.get(subject, "data")
    if event.tag in SPECIAL:
        text = str(SPECIAL[event.tag]) % {"who": who}
    elif event.action is AuditAction.SEARCH and event.tag.endswith(":listed"):
        text = _("%(who)s saw %(part)s in a list.", who=who, part=PARTS[part])
    elif event.result is AuditResult.SUCCESS:
        text = str(SENTENCES[event.action]) % {"who": who, "part": PARTS[part]}
    else:  # the ground it was tried on did not suffice: saying it was allowed would contradict the entry
        text = str(REFUSED_SENTENCES[event.action]) % {"who": who, "part": PARTS[part]}
        return Entry(event=event, who=who, part=part, text=text, ground_kind="refused",
                     ground_text=_("it was not allowed, so nothing was shown or changed"), consent_id=None,
                     organisation_name=organisation_name)
    kind, ground_text, consent_id = _ground(event.ground, consents)
    return Entry(event=event, who=who, part=part, text=text, ground_kind=kind, ground_text=ground_text,
                 consent_id=consent_id, organisation_name=organisation_name)


def page(client_id: int, page_number: int, per_page: int) -> dict:
    """One page of the read log, newest first, each entry in words."""
    rows = db.session.scalars(events_query(client_id).limit(per_page + 1).offset((page_number - 1) * per_page)).all()
    return {"items": [entry.as_dict() for entry in describe(rows[:per_page])], "page": page_number,
            "per_page": per_page, "has_next": len(rows) > per_page}


@dataclass
class Line:
    """Entries of one day that say the same (same organisation, role, part, action, ground): one line
    on paper, with how often and from when to when."""

    day: str
    text: str
    ground_text: str
    first: datetime
    last: datetime
    times: int = 1


def by_day(client_id: int) -> list[Line]:
    """The whole read log for print: per day, identical entries on one line, newest first."""
    lines: OrderedDict[tuple, Line] = OrderedDict()
    for entry in describe(db.session.scalars(events_query(client_id)).all()):
        moment = entry.local_time
        key = (moment.date(), entry.text, entry.ground_text)
        if key in lines:
            line = lines[key]
            line.times += 1
            line.first = moment
        else:
            lines[key] = Line(day=local_date(moment), text=entry.text, ground_text=entry.ground_text,
                              first=moment, last=moment)
    return list(lines.values())


def local_date(moment: datetime | date, style: str = "long") -> str:
    """The day in words, in Amsterdam (a moment) or as it is (a calendar date)."""
    day = moment.astimezone(AMSTERDAM) if isinstance(moment, datetime) else moment
    return format_date(day, style, locale=str(get_locale()))


def local_datetime(moment: datetime) -> str:
    return format_datetime(moment.astimezone(AMSTERDAM), "medium", locale=str(get_locale()))


def local_time(moment: datetime) -> str:
    return format_time(moment.astimezone(AMSTERDAM), "short", locale=str(get_locale()))
