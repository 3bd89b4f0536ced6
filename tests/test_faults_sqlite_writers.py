"""Eight writers at once on the default SQLite database, without a single "database is locked".

Eight writers, each with its own connection, for a bounded time:
six referrers hand clients over and read their lists, two coaches accept what arrives (and race each
other for the same handoffs). The hub takes SQLite's write lock with BEGIN IMMEDIATE before a
transaction's first write and waits up to busy_timeout (hub/__init__.py), so a writer waits its turn
instead of failing. Every answer must be
a 2xx or an expected 409 (a handoff the other coach accepted first), and every 201 must be in the
database exactly once.

HUB_FAULT_SECONDS sets the duration: 15 s in `make test`, a minute in `make faults`. The writers are
threads in `make test` (they start at once; SQLite's locks are per connection, so they contend as
processes would) and processes, as gunicorn runs its workers, in `make faults` (HUB_FAULT_WRITERS).
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import threading
import time
from collections import Counter

import pyotp
import pytest
from sqlalchemy import func, select

from config import Config
from hub import clock
from hub.extensions import db
from hub.referrals.models import Handoff
from tests.conftest import TEST_DATABASE_URL
from tests.factories import Factory, handoff_body

SECONDS = float(os.environ.get("HUB_FAULT_SECONDS", "15"))
MODE = os.environ.get("HUB_FAULT_WRITERS", "threads")  # or "processes"
REFERRERS, COACHES = 6, 2

pytestmark = pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="about SQLite; runs in the SQLite run")


class _Locked(logging.Handler):
    def __init__(self):
        super().__init__()
        self.seen: list[str] = []

    def emit(self, record):
        text = record.getMessage() + (str(record.exc_info[1]) if record.exc_info else "")
        if "locked" in text.lower() or "busy" in text.lower():
            self.seen.append(text[:300])


def _writer(app, url: str, instance: str, role: str, email: str, password: str, secret: str, programme_id: int,
            ready, go, results) -> None:
    """One writer; `app` is None in a process of its own, which then builds its own hub."""
    if app is None:
        from hub import create_app

        app = create_app(Config(env="test", testing=True, instance_path=instance, database_url=url))
    locked = _Locked()
    logging.getLogger().addHandler(locked)
    client = app.test_client()
    statuses, created, problems = Counter(), [], []
    try:
        response = client.post("/api/v1/auth/login", json={"email": email, "password": password,
                                                            "otp": pyotp.TOTP(secret).at(clock.utcnow())})
        assert response.status_code == 200, response.get_json()
        headers = {"Authorization": f"Bearer {response.get_json()['token']}"}
        ready.put(True)
        go.wait(120)
        deadline = time.time() + SECONDS
        while time.time() < deadline:
            if role == "referrer":
                response = client.post("/api/v1/referrals", json=handoff_body(programme_id), headers=headers)
                statuses[response.status_code] += 1
                if response.status_code == 201:
                    created.append(response.get_json()["id"])
                statuses[client.get("/api/v1/referrals?per_page=5", headers=headers).status_code] += 1
            else:
                queue = client.get("/api/v1/referrals?status=submitted&per_page=3", headers=headers)
                statuses[queue.status_code] += 1
                for handoff in (queue.get_json() or {}).get("items", [])[:1]:
                    accepted = client.post(f"/api/v1/referrals/{handoff['id']}/accept", json={}, headers=headers)
                    statuses[accepted.status_code if accepted.status_code != 409 else "409 (raced)"] += 1
                if not queue.get_json().get("items"):
                    time.sleep(0.01)
    except Exception as error:  # noqa: BLE001 - reported to the test
        problems.append(repr(error)[:500])
        ready.put(False)
    logging.getLogger().removeHandler(locked)
    results.put({"role": role, "statuses": dict(statuses), "created": created, "problems": problems,
                 "locked": locked.seen})


@pytest.mark.committed
def test_eight_writers_at_once_never_see_database_is_locked(isolated_app, tmp_path):
    app, make = isolated_app, Factory(isolated_app)
    programme = make.organisation("exit_programme")
    accounts = ([("referrer", make.user("referrer")) for _ in range(REFERRERS)]
                + [("coach", make.user("coach", organisation_id=programme)) for _ in range(COACHES)])
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if MODE == "processes":
        context = multiprocessing.get_context("spawn")
        ready, results, go, start, shared = context.Queue(), context.Queue(), context.Event(), context.Process, None
    else:
        ready, results, go, start, shared = queue.Queue(), queue.Queue(), threading.Event(), threading.Thread, app
    writers = [start(target=_writer, args=(shared, url, app.instance_path, role, account.email, account.password,
                                           account.secret, programme, ready, go, results))
               for role, account in accounts]
    for writer in writers:
        writer.start()
    assert all(ready.get(timeout=180) for _ in writers), "a writer could not start or sign in"
    go.set()
    reports = [results.get(timeout=SECONDS + 180) for _ in writers]
    for writer in writers:
        writer.join(30)

    assert [r["problems"] for r in reports if r["problems"]] == []
    assert [r["locked"] for r in reports if r["locked"]] == []
    statuses = Counter()
    for report in reports:
        statuses.update(report["statuses"])
    assert set(statuses) <= {200, 201, "409 (raced)"}, statuses
    created = [handoff_id for report in reports for handoff_id in report["created"]]
    print(f"{len(created)} handoffs in {SECONDS:.0f} s by {len(writers)} writers ({MODE}): {dict(statuses)}")
    assert len(created) >= 8, statuses  # the writers did write, concurrently
    with app.app_context():
        stored = db.session.scalar(select(func.count()).select_from(Handoff).where(Handoff.id.in_(created)))
        total = db.session.scalar(select(func.count()).select_from(Handoff))
    assert len(set(created)) == len(created) == stored == total
