"""How every `flask hub ...` command answers: one JSON line on stdout; errors exit 2."""
from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps

import click

from hub.errors import HubError
from hub.extensions import db

EXIT_REFUSED = 2


def json_command(func: Callable) -> Callable:
    """Run the command in one transaction and print its result as JSON; a refusal exits 2."""
    @wraps(func)
    def wrapped(*args, **kwargs):
        try:
            result = func(*args, **kwargs)
            db.session.commit()
        except HubError as error:
            db.session.rollback()
            click.echo(f"error: {error.message}", err=True)
            for field, problems in error.fields.items():
                click.echo(f"  {field}: {'; '.join(map(str, problems))}", err=True)
            click.echo(json.dumps(error.to_dict(), default=str))
            sys.exit(EXIT_REFUSED)
        click.echo(json.dumps(result, default=str))
    return wrapped
