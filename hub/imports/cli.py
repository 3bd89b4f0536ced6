"""`flask hub import trajectories|service-referrals FILE.csv`: thin wiring over the import modules."""
import click
from flask.cli import AppGroup

from hub.cli_support import json_command
from hub.clock import utcnow
from hub.imports.service_referrals import import_service_referrals
from hub.imports.trajectories import import_trajectories

import_cli = AppGroup("import", help="Import historical registrations from CSV (UTF-8, ',' or ';').")


@import_cli.command("trajectories")
@click.argument("file", type=click.File("rb"))
@json_command
def trajectories(file):
    """Columns: programme_id, client_ref, entered_on, outcome, outcome_on, gender, birth_year,
    legal_status, target_groups, municipality. Prints {"imported": N, ...}; a bad row imports nothing."""
    return import_trajectories(file.read(), utcnow())


@import_cli.command("service-referrals")
@click.argument("file", type=click.File("rb"))
@json_command
def service_referrals(file):
    """Columns: programme_id, client_ref, partner_id, domain, requested_on, received_on, intake_on,
    started_on, completed_on, rejected_on. Prints {"imported": N, ...}; a bad row imports nothing."""
    return import_service_referrals(file.read(), utcnow())
