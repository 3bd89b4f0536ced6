"""What users read for the directory's own vocabularies (service status, contact position, and the
eligibility values as a service states them)."""
from flask_babel import lazy_gettext as _l

from hub.partners.models import ContactPosition, ServiceStatus
from hub.vocab import Gender, LegalStatus

SERVICE_STATUS_LABELS = {ServiceStatus.ACTIVE: _l("active"), ServiceStatus.INACTIVE: _l("not offered now")}
CONTACT_POSITION_LABELS = {ContactPosition.PRIMARY: _l("Contact person"), ContactPosition.BACKUP: _l("Backup")}
ELIGIBLE_GENDER_LABELS = {
    Gender.FEMALE: _l("women"), Gender.MALE: _l("men"), Gender.TRANSGENDER: _l("transgender people"),
    Gender.NONBINARY: _l("non-binary people"), Gender.UNKNOWN: _l("gender not stated"),
}
ELIGIBLE_LEGAL_LABELS = {
    LegalStatus.RESIDENT: _l("with residence and work permit"),
    LegalStatus.SELF_EMPLOYED_ONLY: _l("allowed to work as self-employed only"),
    LegalStatus.NO_RESIDENCE: _l("without residence"),
}

# The same values describing one client (the search form).
CLIENT_GENDER_LABELS = {
    Gender.FEMALE: _l("woman"), Gender.MALE: _l("man"), Gender.TRANSGENDER: _l("transgender"),
    Gender.NONBINARY: _l("non-binary"), Gender.UNKNOWN: _l("unknown"),
}
CLIENT_LEGAL_LABELS = {
    LegalStatus.RESIDENT: _l("may live and work in the Netherlands"),
    LegalStatus.SELF_EMPLOYED_ONLY: _l("may work only as self-employed"),
    LegalStatus.NO_RESIDENCE: _l("may not live or work in the Netherlands"),
}


def _label(labels: dict, value) -> str:
    return str(labels.get(value, value))


def service_status_label(value) -> str:
    return _label(SERVICE_STATUS_LABELS, value)


def contact_position_label(value) -> str:
    return _label(CONTACT_POSITION_LABELS, value)


def eligible_gender_label(value) -> str:
    return _label(ELIGIBLE_GENDER_LABELS, value)


def eligible_legal_label(value) -> str:
    return _label(ELIGIBLE_LEGAL_LABELS, value)


def directory_label_helpers() -> dict:
    """For the directory's templates (the blueprint's context processor)."""
    return {f.__name__: f for f in (service_status_label, contact_position_label, eligible_gender_label,
                                    eligible_legal_label)}
