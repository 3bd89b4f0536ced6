"""What users read for the vocabularies: translated labels, one place; and figures as their language
writes them."""
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l

from hub.vocab import (
    SCOPE_ITEMS,
    ConsentMethod,
    ConsentPurpose,
    Gender,
    LegalStatus,
    LifeDomain,
    OrganisationKind,
    Role,
    TargetGroup,
    Urgency,
)

ROLE_LABELS = {
    Role.REFERRER: _l("referrer"), Role.COACH: _l("trajectory coach"), Role.PARTNER: _l("chain partner"),
    Role.DIRECTOR: _l("chain director"), Role.ADMIN: _l("administrator"),
}
KIND_LABELS = {
    OrganisationKind.POLICE: _l("Police"), OrganisationKind.GGD: _l("Public health service (GGD)"),
    OrganisationKind.SOCIAL_WORK: _l("Social work"), OrganisationKind.EXIT_PROGRAMME: _l("Exit programme"),
    OrganisationKind.DEBT_RELIEF: _l("Debt relief"), OrganisationKind.ADDICTION_CARE: _l("Addiction care"),
    OrganisationKind.HOUSING: _l("Housing"), OrganisationKind.SHELTER: _l("Shelter"),
    OrganisationKind.MENTAL_HEALTH: _l("Mental health care"), OrganisationKind.BENEFITS: _l("Benefits"),
    OrganisationKind.EDUCATION: _l("Education and language"), OrganisationKind.EMPLOYMENT: _l("Work"),
    OrganisationKind.LEGAL_AID: _l("Legal aid"), OrganisationKind.MUNICIPALITY: _l("Municipality"),
}
DOMAIN_LABELS = {
    LifeDomain.HOUSING: _l("housing"), LifeDomain.FINANCES: _l("finances and debts"),
    LifeDomain.SOCIAL: _l("social functioning"), LifeDomain.MENTAL_HEALTH: _l("mental health"),
    LifeDomain.MEANING: _l("meaning"), LifeDomain.PHYSICAL_HEALTH: _l("physical health"),
    LifeDomain.PRACTICAL: _l("practical functioning"), LifeDomain.WORK: _l("work and day activities"),
    LifeDomain.LEGAL: _l("legal support"),
}


def role_label(role) -> str:
    return str(ROLE_LABELS.get(role, role))


def kind_label(kind) -> str:
    return str(KIND_LABELS.get(kind, kind))


def domain_label(domain) -> str:
    return str(DOMAIN_LABELS.get(domain, domain))


# --- clients, handoffs and consent -------------------------------------------------------------

GENDER_LABELS = {
    Gender.FEMALE: _l("woman"), Gender.MALE: _l("man"), Gender.TRANSGENDER: _l("transgender"),
    Gender.NONBINARY: _l("non-binary"), Gender.UNKNOWN: _l("unknown"),
}
LEGAL_STATUS_LABELS = {
    LegalStatus.RESIDENT: _l("may live and work in the Netherlands"),
    LegalStatus.SELF_EMPLOYED_ONLY: _l("may work only as self-employed"),
    LegalStatus.NO_RESIDENCE: _l("may not live or work in the Netherlands"),
}
TARGET_GROUP_LABELS = {
    TargetGroup.TRAFFICKING_VICTIM: _l("victim of human trafficking"), TargetGroup.MAN: _l("man"),
    TargetGroup.TRANSGENDER: _l("transgender person"), TargetGroup.MINOR: _l("minor"),
    TargetGroup.HOME_WORKER: _l("works from home"), TargetGroup.UNDOCUMENTED: _l("without legal residence"),
}
URGENCY_LABELS = {Urgency.LOW: _l("low"), Urgency.NORMAL: _l("normal"), Urgency.HIGH: _l("high")}
HANDOFF_STATUS_LABELS = {
    "submitted": _l("submitted"), "accepted": _l("accepted by the programme"),
    "first_contact": _l("first contact made"), "declined": _l("declined"), "withdrawn": _l("withdrawn"),
}
PURPOSE_LABELS = {
    ConsentPurpose.HANDOFF: _l("handoff to the exit programme"),
    ConsentPurpose.SERVICE_REFERRAL: _l("referral to a service partner"),
    ConsentPurpose.STATISTICS: _l("research statistics (pseudonymous)"),
}
METHOD_LABELS = {
    ConsentMethod.VERBAL: _l("verbally"), ConsentMethod.WRITTEN: _l("in writing"),
    ConsentMethod.DIGITAL: _l("digitally"),
}
SCOPE_LABELS = {"story": _l("story summary"), "contact": _l("safe-contact details"),
                "profile": _l("profile (gender, birth year, languages, legal position)")}

# The same, in plain words for the client (B1 Dutch, simple English): the printable overview.
PLAIN_SCOPE_LABELS = {
    "story": _l("your story in short"),
    "contact": _l("how to reach you safely"),
    "profile": _l("who you are: gender, year of birth, languages and residence papers"),
    LifeDomain.HOUSING: _l("where you live"),
    LifeDomain.FINANCES: _l("money and debts"),
    LifeDomain.SOCIAL: _l("your contacts with other people"),
    LifeDomain.MENTAL_HEALTH: _l("how you feel inside"),
    LifeDomain.MEANING: _l("what matters to you in life"),
    LifeDomain.PHYSICAL_HEALTH: _l("your body and health"),
    LifeDomain.PRACTICAL: _l("arranging daily things"),
    LifeDomain.WORK: _l("work and daytime activities"),
    LifeDomain.LEGAL: _l("legal matters and papers"),
}
PLAIN_PURPOSE_LABELS = {
    ConsentPurpose.HANDOFF: _l("so that the exit programme can help you"),
    ConsentPurpose.SERVICE_REFERRAL: _l("so that this organisation can help you"),
    ConsentPurpose.STATISTICS: _l("for counting and research, without your name"),
}


def _label(labels: dict, value) -> str:
    value = getattr(value, "value", value)
    return str(labels.get(value, value))


def gender_label(value) -> str:
    return _label(GENDER_LABELS, value)


def legal_status_label(value) -> str:
    return _label(LEGAL_STATUS_LABELS, value)


def target_group_label(value) -> str:
    return _label(TARGET_GROUP_LABELS, value)


def urgency_label(value) -> str:
    return _label(URGENCY_LABELS, value)


def handoff_status_label(value) -> str:
    return _label(HANDOFF_STATUS_LABELS, value)


def purpose_label(value) -> str:
    return _label(PURPOSE_LABELS, value)


def method_label(value) -> str:
    return _label(METHOD_LABELS, value)


def scope_label(item) -> str:
    """A consent scope item: the story summary, the contact details, or a life domain."""
    item = getattr(item, "value", item)
    return str(SCOPE_LABELS[item]) if item in SCOPE_LABELS else domain_label(item)


def plain_scope_label(item) -> str:
    return _label(PLAIN_SCOPE_LABELS, item)


def plain_purpose_label(value) -> str:
    return _label(PLAIN_PURPOSE_LABELS, value)


def in_scope_order(items) -> list[str]:
    """Scope items as people read them: story, contact, then the life domains in their usual order."""
    order = {item: index for index, item in enumerate(SCOPE_ITEMS)}
    return sorted(items, key=lambda item: order.get(item, len(order)))


def label_helpers() -> dict:
    """For templates (a blueprint's context processor): every label function by name."""
    return {function.__name__: function for function in (
        role_label, kind_label, domain_label, gender_label, legal_status_label, target_group_label,
        urgency_label, handoff_status_label, purpose_label, method_label, scope_label, plain_scope_label,
        plain_purpose_label, in_scope_order)}


# --- service referrals and escalations -----------------------------------------------------------
# Keyed by value, so that this module needs no import of the referral models.

REFERRAL_STATUS_LABELS = {
    "requested": _l("requested"), "received": _l("received"), "waitlisted": _l("on the waiting list"),
    "intake_scheduled": _l("intake scheduled"), "in_progress": _l("help started"), "completed": _l("completed"),
    "rejected": _l("rejected"), "cancelled": _l("cancelled"), "on_hold": _l("on hold"),
}
# What the partner or coach chooses: the step, in words of action.
REFERRAL_STEP_LABELS = {
    "received": _l("Received: we have read the referral"), "waitlisted": _l("Placed on our waiting list"),
    "intake_scheduled": _l("Intake scheduled"), "in_progress": _l("Help has started"),
    "completed": _l("Help completed"),
}
HOLD_REASON_LABELS = {  # whose turn it is
    "client": _l("waiting for the client"), "partner": _l("waiting for the partner"),
    "municipality_decision": _l("waiting for a decision by the municipality"),
    "consent": _l("waiting for the client's consent"),
}
REJECT_REASON_LABELS = {
    "no_capacity": _l("no capacity"), "not_eligible": _l("the client is not eligible"),
    "client_did_not_come": _l("the client did not come"), "other": _l("another reason"),
}
ESCALATION_STATE_LABELS = {"open": _l("open"), "resolved": _l("resolved")}
ESCALATION_LEVEL_LABELS = {
    1: _l("level 1: the partner's contact person"), 2: _l("level 2: the partner's management"),
    3: _l("level 3: the chain director"),
}


def _by_value(labels: dict, value) -> str:
    value = getattr(value, "value", value)
    return str(labels.get(value, value))


def referral_status_label(value) -> str:
    return _by_value(REFERRAL_STATUS_LABELS, value)


def referral_step_label(value) -> str:
    value = getattr(value, "value", value)
    return str(REFERRAL_STEP_LABELS[value]) if value in REFERRAL_STEP_LABELS else referral_status_label(value)


def hold_reason_label(value) -> str:
    return _by_value(HOLD_REASON_LABELS, value)


def reject_reason_label(value) -> str:
    return _by_value(REJECT_REASON_LABELS, value)


def referral_reason_label(value) -> str:
    """An event's reason: whose turn (on hold) or why rejected."""
    value = getattr(value, "value", value)
    return hold_reason_label(value) if value in HOLD_REASON_LABELS else reject_reason_label(value)


def escalation_state_label(value) -> str:
    return _by_value(ESCALATION_STATE_LABELS, value)


def escalation_level_label(value) -> str:
    return _by_value(ESCALATION_LEVEL_LABELS, value)


def service_referral_label_helpers() -> dict:
    """For templates: the service-referral and escalation label functions by name."""
    return {function.__name__: function for function in (
        referral_status_label, referral_step_label, hold_reason_label, reject_reason_label, referral_reason_label,
        escalation_state_label, escalation_level_label)}


# --- trajectories ------------------------------------------------------------------------------

PHASE_LABELS = {"contact": _l("contact phase"), "orientation": _l("orientation phase"),
                "execution": _l("execution phase"), "aftercare": _l("aftercare phase")}


def phase_label(phase) -> str:
    return str(PHASE_LABELS.get(phase, phase))


def figure(value: float | None, decimals: int = 1) -> str:
    """A number of days (or any figure) as the reader's language writes it, to at most `decimals`
    places: 1.234,5 and 24 in Dutch, 1,234.5 and 24 in English; "—" for none."""
    if value is None:
        return "—"
    return format_decimal(round(value, decimals), format="#,##0." + "#" * decimals if decimals else "#,##0")
