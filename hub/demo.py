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
from hub.errors import Forbidden
from hub.extensions import db
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
