"""`flask --app wsgi hub ...`: the hub's commands (each prints JSON)."""
from flask.cli import AppGroup

from hub.auth.cli import user_cli
from hub.demo import demo_command
from hub.imports.cli import import_cli
from hub.jobs import escalate_command, scheduler_command
from hub.partners.cli import org_cli
from hub.sealed import reencrypt_command

hub_cli = AppGroup("hub", help="The hub's commands; each prints JSON.")
hub_cli.add_command(org_cli)
hub_cli.add_command(user_cli)
hub_cli.add_command(demo_command)
hub_cli.add_command(scheduler_command)
hub_cli.add_command(reencrypt_command)
hub_cli.add_command(escalate_command)
hub_cli.add_command(import_cli)
