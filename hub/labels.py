"""What users read for the vocabularies: translated labels, one place."""
from flask_babel import lazy_gettext as _l

from hub.vocab import LifeDomain, OrganisationKind, Role

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
