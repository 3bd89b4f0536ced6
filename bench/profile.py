"""Where a request's time goes, in process (Flask test client, no network): the SQL statements it
runs, each with its time, the CPU it costs, and a cProfile of it.

    python -m bench.profile handoff|overview [sqlite|postgresql] [referrals]

PROFILE_REQUESTS (200) requests are measured after 30 to warm up, first without the profiler (wall
and CPU time per request), then under it; PROFILE_TOP (40) functions are printed by cumulative and
by own time, in wall time or, with PROFILE_CLOCK=cpu, in this process's CPU time (waiting on the
database left out). The database is built with bench/data.py at a small size (default 20,000 service
referrals); PostgreSQL uses HUB_BENCH_PG and the database `<BENCH_DATABASE>_profile`.

No app context is held around the requests: each gets its own (its own `g`, its own session), as
under gunicorn. One held around them all would keep Flask-Login's user in `g` and the session's
identity map from one request to the next, and hide the token check.
"""
from __future__ import annotations

import cProfile
import os
import pstats
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import event

from bench import data
from bench.run import HANDOFF, login_in_process


def requester(what: str, client, world: data.World) -> Callable[[], None]:
    if what == "handoff":
        headers = login_in_process(client, world.referrers[1])
        body = {**HANDOFF, "to_organisation_id": world.programmes[0]}

        def one():
            response = client.post("/api/v1/referrals", json=body, headers=headers)
            assert response.status_code == 201, response.get_json()
        return one
    headers = login_in_process(client, world.coaches[0])

    def one():
        response = client.get("/api/v1/service-referrals?per_page=25", headers=headers)
        assert response.status_code == 200, response.get_json()
    return one


def statements_of(engine, one: Callable[[], None]) -> list[tuple[str, float]]:
    """The statements one request sends, each with its time in the driver (ms)."""
    statements: list[tuple[str, float]] = []
    began_at: dict = {}

    def before(_conn, cursor, _statement, _parameters, _context, _many):
        began_at[id(cursor)] = time.perf_counter()

    def after(_conn, cursor, statement, _parameters, _context, _many):
        began = began_at.pop(id(cursor), time.perf_counter())
        statements.append((statement, (time.perf_counter() - began) * 1000))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        one()
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    return statements


def main() -> int:
    what = sys.argv[1] if len(sys.argv) > 1 else "handoff"
    backend = sys.argv[2] if len(sys.argv) > 2 else "sqlite"
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 20_000
    requests = int(os.environ.get("PROFILE_REQUESTS", "200"))
    top = int(os.environ.get("PROFILE_TOP", "40"))
    url = (data.sqlite_url("hub-profile") if backend == "sqlite"
           else data.pg_url(os.environ.get("BENCH_DATABASE", "hub_bench") + "_profile"))
    world = data.migrate_and_seed(url)
    data.grow(world, size, datetime.now(UTC).replace(microsecond=0))
    app = data.bench_app(url)
    client = app.test_client()
    from hub.extensions import db

    with app.app_context():
        engine = db.engine
    one = requester(what, client, world)
    for _ in range(30):
        one()
    statements = statements_of(engine, one)
    print(f"== one {what} request on {backend}: {len(statements)} statements, "
          f"{sum(spent for _s, spent in statements):.2f} ms in the driver")
    for statement, spent in statements:
        print(f"{spent:7.3f} ms  {' '.join(statement.split())[:150]}")

    began, cpu = time.perf_counter(), time.process_time()
    for _ in range(requests):
        one()
    print(f"\n== {requests} requests, {(time.perf_counter() - began) * 1000 / requests:.2f} ms each, "
          f"{(time.process_time() - cpu) * 1000 / requests:.2f} ms CPU of this process (no profiler)")

    # PROFILE_CLOCK=cpu: the profile counts this process's CPU time, so waiting on the database drops out.
    clock = time.process_time if os.environ.get("PROFILE_CLOCK") == "cpu" else time.perf_counter
    profile = cProfile.Profile(clock)
    began = time.perf_counter()
    profile.enable()
    for _ in range(requests):
        one()
    profile.disable()
    print(f"\n== {requests} requests, {(time.perf_counter() - began) * 1000 / requests:.2f} ms each under the "
          "profiler")
    stats = pstats.Stats(profile).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
