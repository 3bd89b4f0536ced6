"""What users read for the vocabularies: translated labels, one place."""
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
SCOPE_LABELS = {"story": _l("story summary"), "contact": _l("safe-contact details")}

# The same, in plain words for the client (B1 Dutch, simple English): the printable overview.
PLAIN_SCOPE_LABELS = {
    "story": _l("your story in short"),
    "contact": _l("how to reach you safely"),
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
