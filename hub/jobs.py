"""Every scheduled job, registered in one place. Jobs are plain functions of `now`; they claim their
work in the database, so running two schedulers is safe."""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime

import click
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask, current_app
from flask.cli import with_appcontext

from hub.clock import utcnow
from hub.extensions import db
from hub.notifications.service import deliver_outbox

log = logging.getLogger(__name__)

# name -> (function of now, APScheduler interval trigger arguments)
JOBS: dict[str, tuple[Callable[[datetime], int], dict]] = {
    "deliver_outbox": (deliver_outbox, {"seconds": 30}),
}


def run_job(app: Flask, name: str) -> int:
    """Run one job in its own app context and transaction; a failure is logged, not fatal."""
    function, _trigger = JOBS[name]
    with app.app_context():
        try:
            return function(utcnow())
        except Exception:
            db.session.rollback()
            log.exception("job %s failed", name)
            return 0
        finally:
            db.session.remove()


def build_scheduler(app: Flask) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone="UTC")
    for name, (_function, trigger) in JOBS.items():
        scheduler.add_job(run_job, "interval", args=(app, name), id=name, max_instances=1,
                          coalesce=True, **trigger)
    return scheduler


@click.command("scheduler")
@click.option("--once", is_flag=True, help="Run every job once now, print what each did, and stop.")
@with_appcontext
def scheduler_command(once: bool):
    """Run the scheduled jobs (outbox delivery, ...) until stopped."""
    app = current_app._get_current_object()
    if once:
        click.echo(json.dumps({name: run_job(app, name) for name in JOBS}))
        return
    click.echo(json.dumps({"scheduler": "started", "jobs": sorted(JOBS)}))
    build_scheduler(app).start()
