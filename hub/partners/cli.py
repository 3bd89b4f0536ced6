"""`flask hub org ...`"""
import click
from flask.cli import AppGroup

from hub.cli_support import json_command
from hub.partners.service import create_organisation
from hub.vocab import OrganisationKind

org_cli = AppGroup("org", help="Organisations.")


@org_cli.command("create")
@click.option("--name", required=True)
@click.option("--kind", required=True, type=click.Choice([k.value for k in OrganisationKind]))
@click.option("--municipality", required=True)
@json_command
def create(name: str, kind: str, municipality: str):
    """Register an organisation; prints {"id": ...}."""
    organisation = create_organisation(name=name, kind=kind, municipality=municipality)
    return {"id": organisation.id, "name": organisation.name, "kind": organisation.kind.value,
            "municipality": organisation.municipality}
