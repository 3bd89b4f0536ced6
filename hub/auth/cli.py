"""`flask hub user ...`"""
import sys

import click
from flask.cli import AppGroup

from hub.auth.service import create_user
from hub.cli_support import json_command
from hub.errors import Invalid
from hub.vocab import Role

user_cli = AppGroup("user", help="User accounts.")


@user_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--organisation", "organisation_id", required=True, type=int)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@json_command
def create(email: str, name: str, organisation_id: int, role: str, password_stdin: bool):
    """Create an account; prints {"id", "otpauth_uri"} once: add that URI to an authenticator app."""
    if not password_stdin:
        raise Invalid("pass --password-stdin and the password on stdin (never as an argument)",
                      fields={"password": ["missing"]})
    password = sys.stdin.readline().rstrip("\r\n")
    user, uri = create_user(email=email, name=name, organisation_id=organisation_id, role=role,
                            password=password, with_totp=True)
    return {"id": user.id, "email": user.email, "role": user.role.value,
            "organisation_id": user.organisation_id, "otpauth_uri": uri}
