"""Every scheduled job, registered in one place. Jobs are plain functions of `now`; they claim their
work in the database, so running two schedulers is safe."""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import click
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask, current_app
from flask.cli import with_appcontext

from hub.auth.service import prune_login_attempts
from hub.clock import utcnow
from hub.extensions import db
from hub.notifications.service import deliver_outbox
from hub.partners.jobs import mark_stale_entries
from hub.referrals.escalation import escalate_overdue
from hub.referrals.reminders import aftercare_reminders, weekly_digest
from hub.rights.jobs import apply_retention

log = logging.getLogger(__name__)

# name -> (function of now, APScheduler interval trigger arguments)
JOBS: dict[str, tuple[Callable[[datetime], object], dict]] = {
    "escalate_overdue": (escalate_overdue, {"minutes": 15}),
    "deliver_outbox": (deliver_outbox, {"minutes": 1}),
    "weekly_digest": (weekly_digest, {"hours": 1}),  # sends on Monday morning, once per coach and week
    "aftercare_reminders": (aftercare_reminders, {"hours": 6}),  # once per client, coach and month
    "mark_stale_entries": (mark_stale_entries, {"hours": 1}),
    "apply_retention": (apply_retention, {"days": 1}),  # anonymisation, held erasures, audit removal
    "prune_login_attempts": (prune_login_attempts, {"days": 1}),  # source addresses kept 30 days
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
        # one run at a time; missed runs (the process was down) collapse into one, run late up to
        # half an interval, then skipped until the next one
        grace = max(30, int(timedelta(**trigger).total_seconds() // 2))
        scheduler.add_job(run_job, "interval", args=(app, name), id=name, max_instances=1,
                          coalesce=True, misfire_grace_time=grace, **trigger)
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


@click.command("escalate")
@click.option("--as-of", "as_of", default=None, help="ISO 8601 time with zone; default now.")
@with_appcontext
def escalate_command(as_of: str | None):
    """Run one escalation sweep as of a moment; prints what it raised per level."""
    try:
        moment = datetime.fromisoformat(as_of) if as_of else utcnow()
    except ValueError:
        raise click.BadParameter("use ISO 8601, e.g. 2026-11-23T09:00:00+01:00", param_hint="--as-of") from None
    if moment.tzinfo is None:
        raise click.BadParameter("give the time zone, e.g. +01:00 or Z", param_hint="--as-of")
    click.echo(json.dumps({"as_of": moment.isoformat(), "raised": escalate_overdue(moment)}))
