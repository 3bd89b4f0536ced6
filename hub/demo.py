"""`flask hub demo`: demo organisations and users, idempotent (a second run changes nothing).

Passwords are random per installation and kept in instance/demo-credentials.json (mode 0600),
never in the repository; the command refuses to run in production.
"""
from __future__ import annotations

import json
import os
import secrets
import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from hub.auth import totp
from hub.auth.service import create_user, find_user_by_email
from hub.cli_support import json_command
from hub.clock import utcnow
from hub.errors import Forbidden
from hub.extensions import db
from hub.partners.entries import create_service, set_contacts
from hub.partners.models import Organisation
from hub.partners.service import create_organisation
from hub.vocab import OrganisationKind as K
from hub.vocab import Role

DEMO_ORGANISATIONS = [
    ("Politie Gelderland, team mensenhandel", K.POLICE, "Arnhem"),
    ("GGD Gelderland-Zuid, soa-poli", K.GGD, "Nijmegen"),
    ("Maatschappelijk werk Rijnstad", K.SOCIAL_WORK, "Arnhem"),
    ("Uitstapprogramma Gelderland", K.EXIT_PROGRAMME, "Arnhem"),
    ("Schuldhulp Arnhem", K.DEBT_RELIEF, "Arnhem"),
    ("Verslavingszorg Oost", K.ADDICTION_CARE, "Arnhem"),
    ("Woonstichting De Rijn", K.HOUSING, "Arnhem"),
    ("Gemeente Arnhem", K.MUNICIPALITY, "Arnhem"),
]
# The demo partners' directory entries: services (HSDS-like) and the fixed contact person and backup.
DEMO_SERVICES = {
    "Schuldhulp Arnhem": [
        {"name": "Schuldhulpverlening", "domains": ["finances"], "municipalities": ["Arnhem", "Renkum", "Rheden"],
         "description": "Overzicht van schulden, stabilisatie en een minnelijke regeling.",
         "legal_positions": ["resident", "self_employed_only"], "languages": ["nl", "en"],
         "required_documents": ["identiteitsbewijs", "bankafschriften van drie maanden", "brieven van schuldeisers"],
         "declared_capacity": 40, "expected_wait_days": 21},
        {"name": "Budgetbeheer", "domains": ["finances", "practical"], "municipalities": ["Arnhem"],
         "description": "De vaste lasten worden betaald vanuit een beheerrekening.", "languages": ["nl"],
         "declared_capacity": 25, "expected_wait_days": 35},
    ],
    "Verslavingszorg Oost": [
        {"name": "Ambulante verslavingszorg", "domains": ["mental_health", "physical_health"],
         "municipalities": ["Arnhem", "Nijmegen", "Ede"], "accepts_active_addiction": True, "age_min": 18,
         "languages": ["nl", "en", "ro", "bg"], "required_documents": ["verwijzing van de huisarts"],
         "declared_capacity": 60, "expected_wait_days": 42},
        {"name": "Crisisopvang verslaving", "domains": ["housing", "mental_health"], "municipalities": ["Arnhem"],
         "accepts_active_addiction": True, "age_min": 18, "languages": ["nl", "en"], "declared_capacity": 6,
         "expected_wait_days": 2},
    ],
    "Woonstichting De Rijn": [
        {"name": "Urgente huisvesting", "domains": ["housing"], "municipalities": ["Arnhem"],
         "description": "Een woning met voorrang voor wie uitstapt, met begeleid wonen het eerste jaar.",
         "legal_positions": ["resident"], "accepts_active_addiction": False, "age_min": 18, "languages": ["nl"],
         "required_documents": ["identiteitsbewijs", "verklaring van het uitstapprogramma"],
         "declared_capacity": 4, "expected_wait_days": 120},
    ],
}
DEMO_CONTACTS = {
    "Schuldhulp Arnhem": (
        {"name": "Consulent Visser", "role": "Schuldhulpverlener, aandachtsfunctionaris uitstappers",
         "phone": "026 377 00 00", "email": "schuldhulp@partner.demo.test", "how_to_reach": "ma-do 9-17 uur"},
        {"name": "Ilse Brouwer", "role": "Teamleider schuldhulp", "phone": "026 377 00 01",
         "email": "teamleider@schuldhulp.demo.test", "how_to_reach": "bij afwezigheid van Visser"}),
    "Verslavingszorg Oost": (
        {"name": "Samir El Amrani", "role": "Verpleegkundig specialist", "phone": "026 400 00 00",
         "email": "intake@verslavingszorg.demo.test", "how_to_reach": "liefst eerst een sms"},
        None),
    "Woonstichting De Rijn": (
        {"name": "Petra de Groot", "role": "Consulent bijzondere doelgroepen", "phone": "026 355 00 00",
         "email": "bijzonder@derijn.demo.test", "how_to_reach": "di en do"},
        {"name": "Karin Meijer", "role": "Consulent urgentie", "phone": "026 355 00 01",
         "email": "urgentie@derijn.demo.test", "how_to_reach": ""}),
}
DEMO_USERS = [
    ("agent@politie.demo.test", "Agent Jansen", 0, Role.REFERRER),
    ("verpleegkundige@ggd.demo.test", "Verpleegkundige De Vries", 1, Role.REFERRER),
    ("coach@uitstap.demo.test", "Coach Bakker", 3, Role.COACH),
    ("schuldhulp@partner.demo.test", "Consulent Visser", 4, Role.PARTNER),
    ("regisseur@arnhem.demo.test", "Ketenregisseur Smit", 7, Role.DIRECTOR),
    ("beheer@arnhem.demo.test", "Beheerder Mulder", 7, Role.ADMIN),
]


def _credentials_path() -> str:
    return os.path.join(current_app.instance_path, "demo-credentials.json")


def _load_passwords() -> dict[str, str]:
    try:
        with open(_credentials_path()) as handle:
            return json.load(handle)
    except FileNotFoundError:
        return {}


def _save_passwords(passwords: dict[str, str]) -> None:
    path = _credentials_path()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(passwords, handle, indent=2)


def load_demo() -> list[dict]:
    """Create what is missing of the demo; return how to sign in as each demo user."""
    if current_app.config["HUB"].production:
        raise Forbidden("demo data is never loaded in production (HUB_ENV=production)")
    organisations = []
    for name, kind, municipality in DEMO_ORGANISATIONS:
        existing = db.session.scalar(select(Organisation).where(
            Organisation.name == name, Organisation.municipality == municipality))
        organisations.append(existing or create_organisation(name=name, kind=kind, municipality=municipality))
    _load_directory(organisations)
    passwords = _load_passwords()
    users = []
    for email, name, org_index, role in DEMO_USERS:
        user = find_user_by_email(email)
        if user is None:
            passwords[email] = f"demo-{secrets.token_urlsafe(12)}"
            user, _uri = create_user(email=email, name=name, organisation_id=organisations[org_index].id,
                                     role=role, password=passwords[email], with_totp=True)
        users.append({"email": email, "role": role.value, "organisation": organisations[org_index].name,
                      "password": passwords.get(email, "(set in an earlier run; not known here)"),
                      "otpauth_uri": totp.provisioning_uri(user)})
    _save_passwords(passwords)
    return users


def _load_directory(organisations: list[Organisation]) -> None:
    """The demo partners' services and contacts: a service is added only when its name is not there yet,
    contacts only when none are named."""
    now = utcnow()
    for organisation in organisations:
        present = {service.name for service in organisation.services}
        for values in DEMO_SERVICES.get(organisation.name, []):
            if values["name"] not in present:
                create_service(None, organisation, values, now)
        if organisation.name in DEMO_CONTACTS and not organisation.contacts:
            primary, backup = DEMO_CONTACTS[organisation.name]
            set_contacts(None, organisation, primary, backup, now)


@click.command("demo")
@with_appcontext  # like the AppGroup commands: also when called through app.cli (test runners)
@json_command
def demo_command():
    """Load the demo organisations and users (idempotent) and print how to sign in as each."""
    users = load_demo()
    click.echo("\nDemo users (password, then a code from an authenticator app with the otpauth URI):", err=True)
    for user in users:
        click.echo(f"  {user['role']:<9} {user['email']:<32} {user['password']}", err=True)
        click.echo(f"            {user['otpauth_uri']}", err=True)
    click.echo("  Tip: .venv/bin/python -m hub.otp <otpauth URI> prints the current code.\n", err=True)
    sys.stderr.flush()
    return {"users": users}
