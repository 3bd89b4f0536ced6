"""The hub's fixed vocabularies (DESIGN.md): one definition, used by models, schemas and forms."""
from enum import StrEnum


class OrganisationKind(StrEnum):
    POLICE = "police"
    GGD = "ggd"
    SOCIAL_WORK = "social_work"
    EXIT_PROGRAMME = "exit_programme"
    DEBT_RELIEF = "debt_relief"
    ADDICTION_CARE = "addiction_care"
    HOUSING = "housing"
    SHELTER = "shelter"
    MENTAL_HEALTH = "mental_health"
    BENEFITS = "benefits"
    EDUCATION = "education"
    EMPLOYMENT = "employment"
    LEGAL_AID = "legal_aid"
    MUNICIPALITY = "municipality"


class Role(StrEnum):
    REFERRER = "referrer"
    COACH = "coach"
    PARTNER = "partner"
    DIRECTOR = "director"
    ADMIN = "admin"


class LifeDomain(StrEnum):
    HOUSING = "housing"
    FINANCES = "finances"
    SOCIAL = "social"
    MENTAL_HEALTH = "mental_health"
    MEANING = "meaning"
    PHYSICAL_HEALTH = "physical_health"
    PRACTICAL = "practical"
    WORK = "work"
    LEGAL = "legal"


K = OrganisationKind
REFERRER_KINDS = frozenset({K.POLICE, K.GGD, K.SOCIAL_WORK})
PARTNER_KINDS = frozenset({K.DEBT_RELIEF, K.ADDICTION_CARE, K.HOUSING, K.SHELTER, K.MENTAL_HEALTH,
                           K.BENEFITS, K.EDUCATION, K.EMPLOYMENT, K.LEGAL_AID})

# Which organisation kinds a role may belong to (DESIGN.md, Roles). None: any kind.
ROLE_KINDS: dict[Role, frozenset[OrganisationKind] | None] = {
    Role.REFERRER: REFERRER_KINDS,
    Role.COACH: frozenset({K.EXIT_PROGRAMME}),
    Role.PARTNER: PARTNER_KINDS,
    Role.DIRECTOR: frozenset({K.MUNICIPALITY}),
    Role.ADMIN: None,
}

D = LifeDomain
# The life domains a partner organisation serves until its directory entry says more (DESIGN.md).
DEFAULT_DOMAINS_BY_KIND: dict[OrganisationKind, tuple[LifeDomain, ...]] = {
    K.DEBT_RELIEF: (D.FINANCES,),
    K.BENEFITS: (D.FINANCES,),
    K.ADDICTION_CARE: (D.MENTAL_HEALTH, D.PHYSICAL_HEALTH),
    K.HOUSING: (D.HOUSING,),
    K.SHELTER: (D.HOUSING,),
    K.MENTAL_HEALTH: (D.MENTAL_HEALTH,),
    K.EDUCATION: (D.PRACTICAL, D.WORK),
    K.EMPLOYMENT: (D.WORK,),
    K.LEGAL_AID: (D.LEGAL,),
}


def role_fits_kind(role: Role, kind: OrganisationKind) -> bool:
    """Whether a user with `role` may belong to an organisation of `kind`."""
    allowed = ROLE_KINDS[role]
    return allowed is None or kind in allowed


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"
    TRANSGENDER = "transgender"
    NONBINARY = "nonbinary"
    UNKNOWN = "unknown"


class LegalStatus(StrEnum):
    RESIDENT = "resident"
    SELF_EMPLOYED_ONLY = "self_employed_only"
    NO_RESIDENCE = "no_residence"


class TargetGroup(StrEnum):
    TRAFFICKING_VICTIM = "trafficking_victim"
    MAN = "man"
    TRANSGENDER = "transgender"
    MINOR = "minor"
    HOME_WORKER = "home_worker"
    UNDOCUMENTED = "undocumented"


class Urgency(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


class ConsentPurpose(StrEnum):
    HANDOFF = "handoff"
    SERVICE_REFERRAL = "service_referral"
    STATISTICS = "statistics"


class ConsentMethod(StrEnum):
    VERBAL = "verbal"
    WRITTEN = "written"
    DIGITAL = "digital"


# What a consent can cover: the story summary, the contact details, the profile (gender, birth year,
# languages, legal position: what a partner sees of who the client is), and each life domain. The
# exit programme receives the profile with the handoff itself; for a partner it is a choice.
PROFILE = "profile"
SCOPE_ITEMS: tuple[str, ...] = ("story", "contact", PROFILE, *(d.value for d in LifeDomain))
# The handoff form does not offer `profile`: the handoff itself gives the programme the profile.
HANDOFF_SCOPE_ITEMS: tuple[str, ...] = tuple(item for item in SCOPE_ITEMS if item != PROFILE)


def enum_column(enum_class, length: int = 30):
    """A portable enum column: stored as its value in a VARCHAR."""
    from sqlalchemy import Enum

    return Enum(enum_class, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])
