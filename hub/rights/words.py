"""Words for the printable read log and export: the vocabularies as a client reads them.
(Same English texts as the interface's labels where they exist, so one translation serves both.)"""
from flask_babel import lazy_gettext as _l

from hub.labels import domain_label, kind_label, role_label

WORDS = {
    "gender": {"female": _l("woman"), "male": _l("man"), "transgender": _l("transgender"),
               "nonbinary": _l("non-binary"), "unknown": _l("unknown")},
    "legal_status": {"resident": _l("may live and work in the Netherlands"),
                     "self_employed_only": _l("may work only as self-employed"),
                     "no_residence": _l("may not live or work in the Netherlands")},
    "target_group": {"trafficking_victim": _l("victim of human trafficking"), "man": _l("man"),
                     "transgender": _l("transgender person"), "minor": _l("minor"),
                     "home_worker": _l("works from home"), "undocumented": _l("without legal residence")},
    "purpose": {"handoff": _l("handoff to the exit programme"), "service_referral": _l("referral to a service partner"),
                "statistics": _l("research statistics (pseudonymous)")},
    "method": {"verbal": _l("verbally"), "written": _l("in writing"), "digital": _l("digitally")},
    "scope": {"story": _l("story summary"), "contact": _l("safe-contact details"),
              "profile": _l("profile (gender, birth year, languages, legal position)")},
    "urgency": {"low": _l("low"), "normal": _l("normal"), "high": _l("high")},
    "handoff_status": {"submitted": _l("submitted"), "accepted": _l("accepted by the programme"),
                       "first_contact": _l("first contact made"), "declined": _l("declined"),
                       "withdrawn": _l("withdrawn")},
    "phase": {"contact": _l("contact phase"), "orientation": _l("orientation phase"),
              "execution": _l("execution phase"), "aftercare": _l("aftercare phase")},
    "outcome": {"exited": _l("left the trade"), "dropped_out": _l("stopped early"), "moved": _l("moved away"),
                "other": _l("ended otherwise")},
    "destination": {"paid_work": _l("paid work"), "education": _l("education"),
                    "day_activities": _l("day activities"), "benefits": _l("benefits")},
    "referral_status": {"requested": _l("requested"), "received": _l("received"),
                        "waitlisted": _l("on the waiting list"), "intake_scheduled": _l("intake scheduled"),
                        "in_progress": _l("help started"), "completed": _l("completed"), "rejected": _l("rejected"),
                        "cancelled": _l("cancelled"), "on_hold": _l("on hold")},
    "escalation_state": {"open": _l("open"), "resolved": _l("resolved")},
    "erasure_status": {"carried_out": _l("carried out"), "held": _l("waiting for the legal hold to be lifted")},
}


def word(vocabulary: str, value) -> str:
    """The value in words (itself when unknown, e.g. None shown as a dash by the template)."""
    value = getattr(value, "value", value)
    if vocabulary == "domain":
        return domain_label(value)
    if vocabulary == "scope":
        return str(WORDS["scope"][value]) if value in WORDS["scope"] else domain_label(value)
    return str(WORDS[vocabulary].get(value, value))


def closing_options() -> dict:
    """The choices of a form that closes a trajectory: its outcomes and an exit's destinations, in words."""
    return {"outcomes": [(value, str(label)) for value, label in WORDS["outcome"].items()],
            "destinations": [(value, str(label)) for value, label in WORDS["destination"].items()]}


def first_upper(text) -> str:
    """The text with its first letter a capital (Jinja's `capitalize` would lower the rest: names, months)."""
    text = str(text)
    return text[:1].upper() + text[1:]


def template_helpers() -> dict:
    return {"word": word, "role_label": role_label, "kind_label": kind_label, "first_upper": first_upper}
