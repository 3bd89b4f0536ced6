"""`make bench`: every benchmark in one run, written to build/bench.md.

  (a) the escalation sweep over 100,000 and 1,000,000 service referrals (1 % stalled), SQLite and
      PostgreSQL, and a rerun that must insert nothing;
  (b) a coach's overview (GET /api/v1/service-referrals, a page of 25) at both sizes: p50/p95;
  (c) handoff POSTs per second under gunicorn (2 sync workers) against a bare Flask endpoint doing one
      raw INSERT, same database, same run;
  (d) peak resident memory per hub worker under that load;
  (e) the reports at the largest size (1,000,000 service referrals, 100,000 trajectories): the
      waiting-time report (from the day counts) and the registration report, p50/p95 through the API;
      the live waiting-time computation against a bare `percentile_cont` query (PostgreSQL) in the
      same run; peak memory per gunicorn worker while it serves the reports.
Each figure is given as min / median / max over the repetitions.

`python -m bench.run --only reports` (or BENCH_ONLY=reports) runs section (e) alone, at the largest
size, and writes it into build/bench.md in place of the section a previous run wrote. `--only handoff`
runs sections (c) and (d) alone on the seeded database and prints their figures (build/bench.md is
left as it is): the quick loop for work on the handoff's speed. `--only sweep` runs section (a) alone, at
every size, and prints it, likewise.

Environment: BENCH_SIZES (default "100000,1000000"), BENCH_BACKENDS ("sqlite,postgresql"),
BENCH_REPS (5), BENCH_SECONDS (10, per load run), HUB_BENCH_PG (the PostgreSQL server URL),
BENCH_DATABASE (the bench database's name, "hub_bench": dropped and made afresh; one per engineer
sharing the server).
"""
from __future__ import annotations

import gc
import json
import os
import statistics
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import text

from bench import data, loadgen
from bench.servers import gunicorn, machine_cpu_ticks, postgresql_cpu_seconds

GOALS = {"sweep_ms": {"sqlite": 100, "postgresql": 250}, "overview_p50_ms": 10, "overview_p95_ms": 25,
         "handoff_ratio": 0.33, "worker_rss_mb": 150, "report_ms": 100, "live_ratio": 1.5}
REPORTS_HEADING = "## (e) Reports"
REFERRALS_PER_TRAJECTORY = data.REFERRALS_PER_CLIENT * 2  # every other client has a trajectory
_used_steps: dict[int, int] = {}


def spread(values: list[float]) -> tuple[float, float, float]:
    return min(values), statistics.median(values), max(values)


def fmt(values: list[float], digits: int = 1, unit: str = "") -> str:
    low, mid, high = spread(values)
    return f"{low:.{digits}f} / **{mid:.{digits}f}** / {high:.{digits}f}{unit}"


def log(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", flush=True)


# --- signing in (a TOTP code counts once per 30 s step and account) --------------------------------

def fresh_code(account: data.Account) -> str:
    step = int(time.time() // 30)
    if _used_steps.get(account.id) == step:
        time.sleep(30 - time.time() % 30 + 0.5)
        step = int(time.time() // 30)
    _used_steps[account.id] = step
    return account.otp(datetime.now(UTC))


def login_in_process(client, account: data.Account) -> dict:
    response = client.post("/api/v1/auth/login", json={"email": account.email, "password": data.PASSWORD,
                                                       "otp": fresh_code(account)})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def login_over_http(port: int, account: data.Account) -> dict:
    import urllib.request

    body = json.dumps({"email": account.email, "password": data.PASSWORD, "otp": fresh_code(account)}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/auth/login", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310  (127.0.0.1 only)
        return {"Authorization": f"Bearer {json.loads(response.read())['token']}"}


# --- (a) the sweep -------------------------------------------------------------------------------

def _reset_escalations(app) -> None:
    from hub.extensions import db

    with db.engine.begin() as connection:
        connection.execute(text("DELETE FROM notifications"))
        connection.execute(text("DELETE FROM escalations"))
    # The reset's own writes are settled before the sweep is timed, so that the sweep does not pay
    # for them (a checkpoint of the deleted rows' pages, or dead rows in its way).
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE notifications, escalations"))
            connection.execute(text("CHECKPOINT"))
    else:
        raw = db.engine.raw_connection()  # outside any transaction
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()


@contextmanager
def _timed_steps(spent: dict):
    """Time the sweep's own steps: the escalations' SQL (levels 1-3) and telling people."""
    from hub.referrals import escalation

    originals = {name: getattr(escalation, name) for name in ("_raise_level_one", "_climb", "_notify_new")}

    def timed(name, function):
        def wrapper(*args, **kwargs):
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                step = "notify_ms" if name == "_notify_new" else "escalations_ms"
                spent[step] = spent.get(step, 0.0) + (time.perf_counter() - began) * 1000
        return wrapper

    for name, function in originals.items():
        setattr(escalation, name, timed(name, function))
    try:
        yield
    finally:
        for name, function in originals.items():
            setattr(escalation, name, function)


def bench_sweep(world: data.World, now: datetime, reps: int) -> dict:
    from hub.extensions import db
    from hub.referrals.escalation import escalate_overdue

    app = data.bench_app(world.url)
    results = {"sweep_ms": [], "rerun_ms": [], "escalations_ms": [], "notify_ms": []}
    # The sweep runs in the scheduler process (`flask --app wsgi hub scheduler`), where wsgi.py froze
    # the loaded app out of the garbage collector's sight; so here, or a full collection over this
    # process's objects (~90 ms) lands in one sweep out of a few.
    gc.freeze()
    with app.app_context():
        _reset_escalations(app)
        escalate_overdue(now)  # warm-up: mappers, compiled statements, the database's caches
        for _ in range(reps):
            _reset_escalations(app)
            db.session.remove()
            spent: dict = {}
            with _timed_steps(spent):
                began = time.perf_counter()
                raised = escalate_overdue(now)
                results["sweep_ms"].append((time.perf_counter() - began) * 1000)
            results["escalations_ms"].append(spent["escalations_ms"])
            results["notify_ms"].append(spent["notify_ms"])
            assert raised == {"level_1": world.stalled, "level_2": 0, "level_3": 0}, (raised, world.stalled)
            began = time.perf_counter()
            raised = escalate_overdue(now)
            results["rerun_ms"].append((time.perf_counter() - began) * 1000)
            assert sum(raised.values()) == 0, raised
        results["plan"] = explain_sweep(now)
        db.session.remove()
        db.engine.dispose()
    return results


def explain_sweep(now: datetime) -> str:
    """The plan of the sweep's level-1 statement (run inside a transaction that is rolled back)."""
    from sqlalchemy import event

    from hub.extensions import db
    from hub.referrals.escalation import escalate_overdue

    statements = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith("INSERT INTO ESCALATIONS"):
            statements.append((statement, parameters))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        _reset_escalations(None)
        escalate_overdue(now)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    if not statements:
        return ""
    statement, parameters = statements[0]  # level 1: the stalled referrals
    dialect = engine.dialect.name
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if dialect == "postgresql" else "EXPLAIN QUERY PLAN "
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        _reset_escalations(None)
        if dialect == "postgresql":  # as the sweep runs it (escalation._probing_the_unique_key)
            cursor.execute("SELECT set_config('enable_seqscan', 'off', true)")
        cursor.execute(prefix + statement, parameters)
        lines = [" | ".join(str(c) for c in row) for row in cursor.fetchall()]
        raw.rollback()
    finally:
        raw.close()
    return "\n".join(lines)


# --- (b) the coach's overview --------------------------------------------------------------------

def bench_overview(world: data.World, requests: int) -> dict:
    """Sequential GETs through the whole WSGI app in this process (no network): token check, query,
    serialisation. The coaches of the first programmes, a page of 25, newest first.

    No app context is held around the requests: each gets its own, as under gunicorn. (One held
    around them all kept Flask-Login's user in `g` from the first request on, so that the later ones
    skipped the token check and were all answered as the first coach.)"""
    from hub.extensions import db

    app = data.bench_app(world.url)
    client = app.test_client()
    timings = {"coach": [], "partner": []}
    for role, accounts in (("coach", world.coaches[:3]), ("partner", world.partner_users[:3])):
        headers = [login_in_process(client, account) for account in accounts]
        for index in range(requests + 30):
            began = time.perf_counter()
            response = client.get("/api/v1/service-referrals?per_page=25", headers=headers[index % 3])
            elapsed = (time.perf_counter() - began) * 1000
            assert response.status_code == 200 and len(response.get_json()["items"]) == 25, response.status_code
            if index >= 30:  # warm-up
                timings[role].append(elapsed)
    with app.app_context():
        db.engine.dispose()
    return timings


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return (statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))])


# --- (c, d) handoff throughput against the bare INSERT; memory per worker -------------------------

HANDOFF = {
    "urgency": "normal",
    "client": {"alias": "Roos", "gender": "female", "birth_year": 1994, "languages": ["nl", "ro"],
               "municipality_of_residence": "Arnhem", "municipality_of_work": "Utrecht",
               "legal_status": "resident", "target_groups": ["trafficking_victim"]},
    "consent": {"method": "verbal", "statement": "Ik geef toestemming dat mijn verhaal naar het uitstapprogramma gaat.",
                "scope": ["story", "contact", "finances", "housing"]},
    "story": {"summary": "Werkt sinds 2019 in de raamprostitutie en wil stoppen.",
              "domains": [{"domain": "finances", "score": 2, "wish": 7, "notes": "Schulden"},
                          {"domain": "housing", "score": 3, "wish": 8, "notes": "Woont boven de club"}]},
}


def handoff_body(programme_id: int) -> bytes:
    return json.dumps({**HANDOFF, "to_organisation_id": programme_id}).encode()


def idle_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    """The share of the machine's CPU time that was idle between two `machine_cpu_ticks` readings."""
    return (after[0] - before[0]) / max(1, after[1] - before[1])


def bench_handoff(world: data.World, reps: int, seconds: float, backend: str) -> dict:
    from bench import bare_app

    bare_app.create_table(world.url)
    body = handoff_body(world.programmes[0])
    results = {"bare": [], "handoff": [], "ratio": [], "handoff_p50": [], "handoff_p95": [], "bare_p50": [],
               "handoff_cpu_ms": [], "bare_cpu_ms": [], "handoff_db_cpu_ms": [], "bare_db_cpu_ms": [],
               "handoff_idle": [], "bare_idle": []}
    database_cpu_seconds = postgresql_cpu_seconds if backend == "postgresql" else lambda: 0.0
    hub_env = data.server_env(world.url)
    bare_env = {**os.environ, "BENCH_DATABASE_URL": world.url}
    with gunicorn("bench.bare_app:app", bare_env, name=f"bare-{backend}") as bare, \
            gunicorn("wsgi:app", hub_env, name=f"hub-{backend}") as hub:
        headers = login_over_http(hub.port, world.referrers[1])
        handoff_request = loadgen.http_request("POST", "/api/v1/referrals", body, headers)
        bare_request = loadgen.http_request("POST", "/bare", body)
        loadgen.run(bare.port, [bare_request], seconds=2)  # warm-up: imports, connections, caches
        loadgen.run(hub.port, [handoff_request], seconds=2)
        results["worker_rss_mb_with_sign_in"] = list(hub.peak_rss_mb().values())
        hub.reset_peaks()
        for _ in range(reps):
            bare_cpu, bare_db, ticks = bare.cpu_seconds(), database_cpu_seconds(), machine_cpu_ticks()
            plain = loadgen.run(bare.port, [bare_request], seconds=seconds)
            bare_cpu, bare_db = bare.cpu_seconds() - bare_cpu, database_cpu_seconds() - bare_db
            results["bare_idle"].append(idle_share(ticks, machine_cpu_ticks()))
            hub_cpu, hub_db, ticks = hub.cpu_seconds(), database_cpu_seconds(), machine_cpu_ticks()
            handoffs = loadgen.run(hub.port, [handoff_request], seconds=seconds)
            hub_cpu, hub_db = hub.cpu_seconds() - hub_cpu, database_cpu_seconds() - hub_db
            results["handoff_idle"].append(idle_share(ticks, machine_cpu_ticks()))
            for name, result in (("bare", plain), ("handoff", handoffs)):
                if result.errors:
                    raise RuntimeError(f"{name} on {backend}: {result.errors} errors {dict(result.statuses)}\n"
                                       f"{(hub if name == 'handoff' else bare).log_tail()}")
            results["bare"].append(plain.per_second)
            results["handoff"].append(handoffs.per_second)
            results["ratio"].append(handoffs.per_second / plain.per_second)
            results["handoff_p50"].append(handoffs.median_ms)
            results["handoff_p95"].append(handoffs.percentile(95))
            results["bare_p50"].append(plain.median_ms)
            results["bare_cpu_ms"].append(bare_cpu * 1000 / plain.requests)
            results["handoff_cpu_ms"].append(hub_cpu * 1000 / handoffs.requests)
            results["bare_db_cpu_ms"].append(bare_db * 1000 / plain.requests)
            results["handoff_db_cpu_ms"].append(hub_db * 1000 / handoffs.requests)
        results["worker_rss_mb"] = list(hub.peak_rss_mb().values())
    return results


# --- (e) the reports ----------------------------------------------------------------------------

REPORT_REQUESTS = {
    "waiting, director, this year": ("director", "/api/v1/reports/waiting-times?group_by=organisation"),
    "waiting, director, by domain, 4 years": ("director", "/api/v1/reports/waiting-times?group_by=domain"
                                                          "&from={four_years_ago}"),
    "waiting, coach, this year": ("coach", "/api/v1/reports/waiting-times?group_by=organisation"),
    "registration, director, this year": ("director", "/api/v1/reports/registration"),
    "registration, coach, 4 years": ("coach", "/api/v1/reports/registration?from={four_years_ago}"),
}
BARE_PERCENTILE_CONT = """
SELECT organisation_id, count(*), count(started_at),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY {days}), percentile_cont(0.9) WITHIN GROUP (ORDER BY {days})
FROM service_referrals GROUP BY organisation_id"""


def _timed(function, reps: int) -> list[float]:
    times = []
    for _ in range(reps):
        began = time.perf_counter()
        function()
        times.append((time.perf_counter() - began) * 1000)
    return times


def bench_reports(world: data.World, now: datetime, reps: int, requests: int = 40) -> dict:
    """The reports through the API (in-process): `reps` rounds of `requests` each after a warm-up, the
    p50 and p95 of every round; the stored registration against the live one; the live waiting
    computation against the bare percentile_cont over the whole table; the memory of gunicorn workers
    serving the reports."""
    from sqlalchemy import true

    from hub.extensions import db
    from hub.referrals.service_referral_models import ServiceReferral
    from hub.reports.models import WaitingDayCount
    from hub.reports.period import Period
    from hub.reports.registration import registration
    from hub.reports.sql import DAYS_BETWEEN_POSTGRESQL, DUTCH_DATE_POSTGRESQL
    from hub.reports.waiting import counted_statistics
    from hub.reports.waiting_live import period_statistics

    app = data.bench_app(world.url)
    client = app.test_client()
    four_years_ago = f"{now.year - 4}-01-01"
    results: dict = {"api": {}, "p50": {}, "p95": {}, "whole_table": {}, "registration": {},
                     "load": [os.getloadavg()[0]]}
    with app.app_context():
        accounts = {"director": world.director, "coach": world.coaches[0]}
        headers = {role: login_in_process(client, account) for role, account in accounts.items()}
        paths = {name: (role, path.format(four_years_ago=four_years_ago))
                 for name, (role, path) in REPORT_REQUESTS.items()}

        def get(name: str) -> float:
            role, path = paths[name]
            began = time.perf_counter()
            response = client.get(path, headers=headers[role])
            elapsed = (time.perf_counter() - began) * 1000
            assert response.status_code == 200, response.get_json()
            return elapsed

        for name in REPORT_REQUESTS:  # warm-up
            for _ in range(5):
                get(name)
        for _ in range(reps):  # round after round over every report: each sees the same neighbours
            for name in REPORT_REQUESTS:
                timings = [get(name) for _ in range(requests)]
                results["api"].setdefault(name, []).extend(timings)
                p50, p95 = percentiles(timings)
                results["p50"].setdefault(name, []).append(p50)
                results["p95"].setdefault(name, []).append(p95)
        for name in REPORT_REQUESTS:
            log(f"{name}: p50 {fmt(results['p50'][name])} ms, p95 {fmt(results['p95'][name])} ms")
        # The registration from the stored facts against the live computation (the same numbers).
        checked = results["registration"]
        checked["stored_ms"], checked["live_ms"], checked["identical"] = [], [], True
        programmes, period = world.programmes[:2], Period(datetime(now.year - 4, 1, 1).date(), now.date())
        for _ in range(reps):
            for key in ("stored_ms", "live_ms"):
                began = time.perf_counter()
                answer = registration(programmes, period, suppress_small=False, live=key == "live_ms")
                checked[key].append((time.perf_counter() - began) * 1000)
                checked.setdefault("answers", []).append(answer)
        answers = checked.pop("answers")
        checked["identical"] = all(answer == answers[0] for answer in answers)
        # The whole table, grouped by partner: from the counts, live, and (PostgreSQL) bare percentile_cont.
        whole = results["whole_table"]
        counted = counted_statistics((true(),), WaitingDayCount.organisation_id)
        live = period_statistics((true(),), ServiceReferral.organisation_id)
        answers = {"counts": db.session.execute(counted).all(), "live": db.session.execute(live).all()}
        whole["counts_ms"] = _timed(lambda: db.session.execute(counted).all(), reps)
        whole["live_ms"] = _timed(lambda: db.session.execute(live).all(), reps)
        if db.engine.dialect.name == "postgresql":
            dutch = (DUTCH_DATE_POSTGRESQL.format(t="started_at"), DUTCH_DATE_POSTGRESQL.format(t="requested_at"))
            bare = text(BARE_PERCENTILE_CONT.format(days=DAYS_BETWEEN_POSTGRESQL.format(a=dutch[1], b=dutch[0])))
            answers["bare"] = db.session.execute(bare).all()
            # alternate, so that both see the same caches and the same neighbours on the machine
            whole["bare_ms"], whole["live_ms"] = [], []
            for _ in range(reps):
                whole["bare_ms"] += _timed(lambda: db.session.execute(bare).all(), 1)
                whole["live_ms"] += _timed(lambda: db.session.execute(live).all(), 1)
            whole["ratio"] = [live_ms / bare_ms for live_ms, bare_ms in zip(whole["live_ms"], whole["bare_ms"],
                                                                            strict=True)]
        same = {name: sorted(tuple(row) for row in rows) for name, rows in answers.items()}
        whole["identical"] = all(rows == same["live"] for rows in same.values())
        db.session.remove()
        db.engine.dispose()
    results["load"].append(os.getloadavg()[0])
    results["memory"] = _report_memory(world, four_years_ago)
    return results


def _report_memory(world: data.World, four_years_ago: str) -> dict:
    """Peak resident memory of 2 gunicorn workers answering the reports for 10 s, against after sign-in."""
    env = data.server_env(world.url)
    with gunicorn("wsgi:app", env, name="hub-reports") as hub:
        requests = []
        for role, path in REPORT_REQUESTS.values():
            account = world.director if role == "director" else world.coaches[0]
            headers = login_over_http(hub.port, account)
            requests.append(loadgen.http_request("GET", path.format(four_years_ago=four_years_ago), b"", headers))
        loadgen.run(hub.port, requests, seconds=2, processes=1, threads=2)
        hub.reset_peaks()
        first = loadgen.run(hub.port, requests, seconds=5, processes=1, threads=2)
        after_first = list(hub.peak_rss_mb().values())
        second = loadgen.run(hub.port, requests, seconds=5, processes=1, threads=2)
        if first.errors or second.errors:
            raise RuntimeError(f"reports under gunicorn: {first.errors + second.errors} errors\n{hub.log_tail()}")
        return {"after_5s": after_first, "after_10s": list(hub.peak_rss_mb().values()),
                "requests": first.requests + second.requests}


# --- the report ----------------------------------------------------------------------------------

def main() -> int:
    only = os.environ.get("BENCH_ONLY", "")
    if "--only" in sys.argv:
        only = sys.argv[sys.argv.index("--only") + 1]
    if only not in ("", "reports", "handoff", "sweep"):
        raise SystemExit(f"--only: reports, handoff or sweep (or nothing for every section), not {only!r}")
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES", "100000,1000000").split(",")]
    if only == "reports":
        sizes = sizes[-1:]
    backends = os.environ.get("BENCH_BACKENDS", "sqlite,postgresql").split(",")
    reps = int(os.environ.get("BENCH_REPS", "5"))
    seconds = float(os.environ.get("BENCH_SECONDS", "10"))
    database = os.environ.get("BENCH_DATABASE", "hub_bench")
    now = datetime.now(UTC).replace(microsecond=0)
    results: dict = {}
    started = time.time()
    for backend in backends:
        url = data.sqlite_url(database.replace("_", "-")) if backend == "sqlite" else data.pg_url(database)
        log(f"{backend}: migrating and seeding {url}")
        world = data.migrate_and_seed(url)
        if only == "handoff":  # the seeded world is enough: a handoff reads no referral
            handoff = bench_handoff(world, reps, seconds, backend)
            log(f"{backend}: handoff {fmt(handoff['handoff'], 0)}/s, bare {fmt(handoff['bare'], 0)}/s, "
                f"ratio {fmt([100 * r for r in handoff['ratio']], 1, ' %')}, worker CPU per request "
                f"{fmt(handoff['handoff_cpu_ms'], 2)} vs {fmt(handoff['bare_cpu_ms'], 2)} ms, database server CPU "
                f"{fmt(handoff['handoff_db_cpu_ms'], 2)} vs {fmt(handoff['bare_db_cpu_ms'], 2)} ms, CPUs idle "
                f"during the handoffs {fmt([100 * i for i in handoff['handoff_idle']], 1, ' %')}, worker peak "
                f"{max(handoff['worker_rss_mb']):.0f} MB")
            log(f"{backend}: CPUs idle during the bare INSERTs {fmt([100 * i for i in handoff['bare_idle']], 1, ' %')}")
            continue
        if only == "sweep":
            for size in sizes:
                data.grow(world, size, now)
                sweep = bench_sweep(world, now, reps)
                log(f"{backend} {world.referrals:,}: sweep {fmt(sweep['sweep_ms'])} ms, of which escalations "
                    f"{fmt(sweep['escalations_ms'])} and notifications {fmt(sweep['notify_ms'])} ms; rerun "
                    f"{fmt(sweep['rerun_ms'])} ms")
            continue
        if only == "reports":
            began = time.time()
            data.grow(world, sizes[-1], now)
            log(f"{backend}: {world.referrals:,} service referrals, {world.clients // 2:,} trajectories "
                f"in {time.time() - began:.0f} s")
            results[backend] = {"reports": bench_reports(world, now, reps)}
            continue
        for size in sizes:
            began = time.time()
            data.grow(world, size, now)
            log(f"{backend}: {world.referrals:,} service referrals ({world.stalled:,} stalled) "
                f"in {time.time() - began:.0f} s")
            entry = results.setdefault(backend, {}).setdefault(size, {})
            entry["stalled"] = world.stalled
            entry["sweep"] = bench_sweep(world, now, reps)
            log(f"{backend} {size:,}: sweep {fmt(entry['sweep']['sweep_ms'])} ms, "
                f"rerun {fmt(entry['sweep']['rerun_ms'])} ms")
            entry["overview"] = bench_overview(world, 200)
            log(f"{backend} {size:,}: overview p50/p95 {percentiles(entry['overview']['coach'])}")
        log(f"{backend}: handoff against the bare INSERT, {reps} x {seconds:.0f} s each")
        results[backend]["handoff"] = bench_handoff(world, reps, seconds, backend)
        log(f"{backend}: handoff {fmt(results[backend]['handoff']['handoff'], 0)}/s, "
            f"bare {fmt(results[backend]['handoff']['bare'], 0)}/s")
        results[backend]["reports"] = bench_reports(world, now, reps)
    if only in ("handoff", "sweep"):  # printed only: build/bench.md keeps the whole run's figures
        return 0
    if only == "reports":
        path = write_reports_only(results, sizes[-1], reps, time.time() - started)
    else:
        path = write_report(results, sizes, reps, seconds, time.time() - started)
    log(f"written: {path}")
    return 0


def reports_section(results: dict, size: int, reps: int) -> list[str]:
    loads = ", ".join(f"{backend} {by_backend['reports']['load'][0]:.1f} → {by_backend['reports']['load'][-1]:.1f}"
                      for backend, by_backend in results.items())
    lines = [REPORTS_HEADING, "",
             f"{size:,} service referrals and {size // REFERRALS_PER_TRAJECTORY:,} trajectories. Through the API in "
             f"one process (token, audit event, query, serialisation; no network), {reps} rounds of 40 requests of "
             "each report after 5 warm-up ones; per round its p50 and p95, given as min / **median** / max over "
             "the rounds, in ms. A chain director sees the 9 partners of one municipality (a fifth of the "
             "referrals) and its 2 programmes; a coach one programme (a tenth). The waiting-time report reads "
             "its percentiles from `waiting_day_counts`, the current waits from partial indexes; the "
             "registration reads `registration_facts`. Both kept by triggers. The goal: p50 at most 100 ms. "
             f"Load average (1 min) at the start and the end of the measurements: {loads}.", "",
             "| report | database | p50 ms | p95 ms | goal |", "| --- | --- | ---: | ---: | --- |"]
    for name in REPORT_REQUESTS:
        for backend, by_backend in results.items():
            p50, p95 = by_backend["reports"]["p50"][name], by_backend["reports"]["p95"][name]
            met = statistics.median(p50) <= GOALS["report_ms"]
            lines.append(f"| {name} | {backend} | {fmt(p50)} | {fmt(p95)} | {'met' if met else '**missed**'} |")
    lines += ["", f"The registration of 2 programmes over 4 years, {reps} repetitions (min / **median** / max ms): "
              "from the stored facts and live from trajectories, clients and goals "
              "(`registration(..., live=True)`). \"identical\": every answer equal.", "",
              "| database | from the facts | live | identical |", "| --- | ---: | ---: | --- |"]
    for backend, by_backend in results.items():
        checked = by_backend["reports"]["registration"]
        lines.append(f"| {backend} | {fmt(checked['stored_ms'])} | {fmt(checked['live_ms'])} | "
                     f"{'yes' if checked['identical'] else '**no**'} |")
    lines += ["", f"The waiting statistics over the whole table, grouped by partner, {reps} repetitions (min / "
              "**median** / max ms): from the day counts; live from the referrals (hub/reports/waiting_live.py: "
              "`percentile_cont` on PostgreSQL, ranks on SQLite); the bare `percentile_cont` query written by hand "
              "(PostgreSQL), alternating with the live one. \"identical\": all answers equal, to the last bit.", "",
              "| database | from the counts | live | bare percentile_cont | live / bare | goal | identical |",
              "| --- | ---: | ---: | ---: | ---: | --- | --- |"]
    for backend, by_backend in results.items():
        whole = by_backend["reports"]["whole_table"]
        if "bare_ms" in whole:
            ratio = statistics.median(whole["ratio"])
            bare, ratio_cell = fmt(whole["bare_ms"]), fmt(whole["ratio"], 2)
            goal = f"<= 1.5: {'met' if ratio <= GOALS['live_ratio'] else '**missed**'}"
        else:
            bare, ratio_cell, goal = "-", "-", "-"
        lines.append(f"| {backend} | {fmt(whole['counts_ms'])} | {fmt(whole['live_ms'])} | {bare} | {ratio_cell} | "
                     f"{goal} | {'yes' if whole['identical'] else '**no**'} |")
    lines += ["", "Memory: gunicorn, 2 sync workers, answering the five report requests above in a closed loop "
              "(2 threads) for twice 5 s; each worker's peak resident memory (VmHWM, reset after a warm-up) after "
              "the first and after the second 5 s. Flat: the second column no higher than the first.", "",
              "| database | requests | peak MB after 5 s | peak MB after 10 s | flat |",
              "| --- | ---: | ---: | ---: | --- |"]
    for backend, by_backend in results.items():
        memory = by_backend["reports"]["memory"]
        flat = max(memory["after_10s"]) <= max(memory["after_5s"]) + 1
        lines.append(f"| {backend} | {memory['requests']:,} | {fmt(memory['after_5s'])} | {fmt(memory['after_10s'])} | "
                     f"{'yes' if flat else '**no**'} |")
    return lines + [""]


def write_reports_only(results: dict, size: int, reps: int, took: float) -> str:
    """Section (e) alone: into build/bench.md in place of the one there (or appended)."""
    path = os.path.join(data.ROOT, "build", "bench.md")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    section = reports_section(results, size, reps)
    section.insert(2, f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python -m bench.run --only reports` "
                      f"({took / 60:.0f} min; load average {os.getloadavg()[0]:.1f}).")
    section.insert(3, "")
    existing = ["# Benchmarks", ""]
    if os.path.exists(path):
        with open(path) as previous:
            existing = previous.read().splitlines()
    if REPORTS_HEADING in existing:
        start = existing.index(REPORTS_HEADING)
        end = next((i for i in range(start + 1, len(existing)) if existing[i].startswith("## ")), len(existing))
        existing[start:end] = section
    else:
        existing += ["", *section]
    with open(path, "w") as report:
        report.write("\n".join(existing) + "\n")
    return path


def write_report(results: dict, sizes: list[int], reps: int, seconds: float, took: float) -> str:
    cpu = os.cpu_count()
    load = os.getloadavg()
    lines = [
        "# Benchmarks",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC in one run of `make bench` ({took / 60:.0f} min) on this "
        f"machine: {cpu} CPUs, load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (other work "
        f"shares the machine, so the spread is wide). Each figure: **min / median / max** over {reps} repetitions. "
        "Data: `bench/data.py` (79 % of service referrals closed, 20 % open within their norm, 1 % stalled).",
        "",
    ]
    lines += ["## (a) Escalation sweep", "",
              "`escalate_overdue(now)`, in-process, after one warm-up sweep: the whole sweep, committing, split into "
              "its escalation statements (one INSERT ... SELECT ... ON CONFLICT DO NOTHING per ladder level, level 1 "
              "over the covering indexes' ranges of every SLA rule, ORed; on PostgreSQL FOR UPDATE SKIP LOCKED and "
              "the anti-join a probe of the unique key per candidate) and telling people (one notification per "
              "person per sweep, counting what concerns them, worked out in one SQL statement; each body sealed with "
              "AES-GCM); each sweep after the last one's escalations were deleted and the tables vacuumed and "
              "checkpointed (on PostgreSQL the planner then believes `escalations` empty, and the first write to "
              "each page after the checkpoint logs the whole page, as after any checkpoint in service); then the "
              "same sweep again, which must insert nothing (the sweep every 15 "
              "minutes, when nothing new stalled).", "",
              "| database | service referrals | stalled (= raised) | whole sweep ms | of which escalations ms | "
              "of which notifications ms | rerun ms | goal at 1M (PG 250, SQLite 100 ms) |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for backend, by_size in results.items():
        for size in sizes:
            sweep = by_size[size]["sweep"]
            goal = GOALS["sweep_ms"][backend]
            verdict = "-"
            if size == max(sizes):
                verdict = "; ".join(f"{name} {'met' if statistics.median(sweep[key]) <= goal else '**missed**'}"
                                    for name, key in (("sweep", "sweep_ms"), ("escalations", "escalations_ms"),
                                                      ("rerun", "rerun_ms")))
            lines.append(f"| {backend} | {size:,} | {by_size[size]['stalled']:,} | {fmt(sweep['sweep_ms'])} | "
                         f"{fmt(sweep['escalations_ms'])} | {fmt(sweep['notify_ms'])} | {fmt(sweep['rerun_ms'])} | "
                         f"{verdict} |")
    for backend, by_size in results.items():
        if len(sizes) > 1:
            small, large = (statistics.median(by_size[s]["sweep"]["sweep_ms"]) for s in (sizes[0], sizes[-1]))
            stalled = by_size[sizes[-1]]["stalled"] / by_size[sizes[0]]["stalled"]
            lines.append(f"\n{backend}: {sizes[-1] // sizes[0]}x the rows and {stalled:.0f}x the stalled cost "
                         f"{large / small:.1f}x the time.")
    lines += ["", "## (b) A coach's overview and a partner's inbox: GET /api/v1/service-referrals, a page of 25", "",
              "Sequential requests through the whole WSGI app in one process (token, query, serialisation; no "
              "network), 200 after a warm-up, over 3 coaches (each programme holds a tenth of the rows) and 3 "
              "partners (each a 45th). Per size: p50 and p95 in ms.", "",
              "| database | service referrals | coach p50 | coach p95 | partner p50 | partner p95 | goal |",
              "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for backend, by_size in results.items():
        for size in sizes:
            coach, partner = (percentiles(by_size[size]["overview"][r]) for r in ("coach", "partner"))
            fast = coach[0] <= GOALS["overview_p50_ms"] and coach[1] <= GOALS["overview_p95_ms"]
            met = "met" if fast else "**missed**"
            lines.append(f"| {backend} | {size:,} | {coach[0]:.1f} | {coach[1]:.1f} | {partner[0]:.1f} | "
                         f"{partner[1]:.1f} | p50 <= 10, p95 <= 25: {met} |")
    lines += ["", "## (c) Handoff POST /api/v1/referrals against a bare INSERT endpoint", "",
              f"gunicorn, 2 sync workers each, on 127.0.0.1; the same database (holding the {max(sizes):,}-row "
              f"data set); {reps} alternating runs of {seconds:.0f} s, 8 connections in a closed loop "
              "(`bench/loadgen.py`: 2 processes x 4 threads, on the same CPUs as the server). The bare endpoint "
              "(`bench/bare_app.py`) does one raw INSERT per request; a handoff writes a client, its story, a "
              "consent, the handoff, an audit event and a notification per coach, all encrypted where sealed.",
              "The CPU columns: the time the workers spent per request (user and system, from /proc), the cost "
              "that decides the ratio once the two CPUs are busy; the same for every PostgreSQL process on the "
              "machine (its backends, WAL writer, checkpointer: on SQLite the database works inside the "
              "workers); and the share of the two CPUs that sat idle (or waited on the disk) during the "
              "runs: time a sync worker spent waiting while the other could not use it.",
              "", "| database | bare INSERT req/s | handoff req/s | ratio | handoff p50 ms | handoff p95 ms | goal | "
              "worker CPU ms per handoff | per bare INSERT | database CPU ms per handoff | per bare INSERT | "
              "CPUs idle during handoffs | during bare INSERTs |",
              "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for backend, by_size in results.items():
        handoff = by_size["handoff"]
        met = "met" if statistics.median(handoff["ratio"]) >= GOALS["handoff_ratio"] else "**missed**"
        lines.append(f"| {backend} | {fmt(handoff['bare'], 0)} | {fmt(handoff['handoff'], 0)} | "
                     f"{fmt([r * 100 for r in handoff['ratio']], 0, ' %')} | {fmt(handoff['handoff_p50'])} | "
                     f"{fmt(handoff['handoff_p95'])} | >= 33 %: {met} | {fmt(handoff['handoff_cpu_ms'], 2)} | "
                     f"{fmt(handoff['bare_cpu_ms'], 2)} | {fmt(handoff['handoff_db_cpu_ms'], 2)} | "
                     f"{fmt(handoff['bare_db_cpu_ms'], 2)} | "
                     f"{fmt([100 * i for i in handoff['handoff_idle']], 0, ' %')} | "
                     f"{fmt([100 * i for i in handoff['bare_idle']], 0, ' %')} |")
    lines += ["", "## (d) Peak memory per hub worker under load", "",
              "The kernel's high-water mark (VmHWM) of each gunicorn worker of the hub during the handoff runs (reset "
              "after the warm-up). Before that reset, the mark also holds starting up and signing in: argon2id "
              "(RFC 9106 low-memory profile, hub/auth/passwords.py) works in 64 MiB for each password it checks, "
              "for a moment; that figure is in the last column.", "",
              "| database | workers | peak RSS MB under load (min / median / max over workers) | goal | "
              "with start-up and sign-in |", "| --- | ---: | ---: | --- | ---: |"]
    for backend, by_size in results.items():
        rss = by_size["handoff"]["worker_rss_mb"]
        met = "met" if max(rss) < GOALS["worker_rss_mb"] else "**missed**"
        lines.append(f"| {backend} | {len(rss)} | {fmt(rss)} | < 150 MB: {met} | "
                     f"{fmt(by_size['handoff']['worker_rss_mb_with_sign_in'])} |")
    lines += ["", *reports_section(results, max(sizes), reps)]
    lines += ["", "## Plans of the sweep's level-1 statement", ""]
    for backend, by_size in results.items():
        lines += [f"{backend}, {max(sizes):,} rows:", "", "```", by_size[max(sizes)]["sweep"]["plan"], "```", ""]
    path = os.path.join(data.ROOT, "build", "bench.md")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as report:
        report.write("\n".join(lines) + "\n")
    return path


if __name__ == "__main__":
    sys.exit(main())
