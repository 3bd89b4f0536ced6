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
