"""Factories: organisations and accounts made through the service layer, as the hub makes them."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from hub.auth.models import User
from hub.auth.service import create_user
from hub.extensions import db
from hub.partners.service import create_organisation
from hub.vocab import OrganisationKind, Role

PASSWORD = "lantaarnpaal fietsbel 2026 zomer"
_counter = itertools.count(1)

DEFAULT_KIND = {
    Role.REFERRER: OrganisationKind.POLICE, Role.COACH: OrganisationKind.EXIT_PROGRAMME,
    Role.PARTNER: OrganisationKind.DEBT_RELIEF, Role.DIRECTOR: OrganisationKind.MUNICIPALITY,
    Role.ADMIN: OrganisationKind.MUNICIPALITY,
}


@dataclass
class Account:
    """A user as a test sees it: the row's id plus what its owner knows (password, TOTP secret)."""

    id: int
    email: str
    password: str
    secret: str | None
    organisation_id: int
    role: Role

    def load(self) -> User:
        return db.session.get(User, self.id)


def handoff_body(programme_id: int, scope=("story", "contact", "finances", "housing"), **overrides) -> dict:
    """A complete handoff as a referrer's form or system sends it."""
    body = {
        "to_organisation_id": programme_id,
        "urgency": "normal",
        "client": {"alias": "Roos", "gender": "female", "birth_year": 1994, "languages": ["nl", "ro"],
                   "municipality_of_residence": "Arnhem", "municipality_of_work": "Utrecht",
                   "legal_status": "resident", "target_groups": ["trafficking_victim"]},
        "safe_contact": {"channel": "via de outreachwerker", "times": "na 14:00", "never_call": True,
                         "code_word": "zonnebloem", "no_letters_home": True},
        "safety_concerns": "Pooier houdt haar telefoon in de gaten.",
        "consent": {"method": "verbal", "statement": "Ik geef toestemming dat mijn verhaal naar het "
                                                     "uitstapprogramma gaat.", "scope": list(scope)},
        "story": {"summary": "Werkt sinds 2019 in de raamprostitutie en wil stoppen.",
                  "domains": [{"domain": "finances", "score": 2, "wish": 7, "notes": "Schulden bij de pooier"},
                              {"domain": "housing", "score": 3, "wish": 8, "notes": "Woont boven de club"}]},
    }
    body.update(overrides)
    return body


class Factory:
    def __init__(self, app):
        self.app = app

    def organisation(self, kind: OrganisationKind | str = OrganisationKind.EXIT_PROGRAMME,
                     municipality: str = "Utrecht", name: str | None = None):
        with self.app.test_request_context():
            organisation = create_organisation(name=name or f"Organisatie {next(_counter)}", kind=kind,
                                               municipality=municipality)
            db.session.commit()
            return organisation.id

    def user(self, role: Role | str = Role.COACH, organisation_id: int | None = None,
             enrolled: bool = True, password: str = PASSWORD, email: str | None = None) -> Account:
        role = Role(role)
        organisation_id = organisation_id or self.organisation(DEFAULT_KIND[role])
        email = email or f"{role.value}{next(_counter)}@hub.test"
        with self.app.test_request_context():
            user, _uri = create_user(email=email, name=f"Test {role.value}", organisation_id=organisation_id,
                                     role=role, password=password, with_totp=enrolled)
            db.session.commit()
            return Account(user.id, user.email, password, user.totp_secret, organisation_id, role)

    def handoff(self, programme_id: int | None = None, referrer: Account | None = None,
                scope=("story", "contact", "finances", "housing"), **overrides) -> tuple[int, int]:
        """A client handed over to a programme through the service; returns (handoff id, client id)."""
        from hub.clock import utcnow
        from hub.referrals.schemas import HandoffCreateSchema
        from hub.referrals.service import submit_handoff

        programme_id = programme_id or self.organisation(OrganisationKind.EXIT_PROGRAMME)
        referrer = referrer or self.user(Role.REFERRER)
        with self.app.test_request_context():
            data = HandoffCreateSchema().load(handoff_body(programme_id, scope, **overrides))
            handoff = submit_handoff(referrer.load(), data, utcnow())
            db.session.commit()
            return handoff.id, handoff.client_id
