"""`make load`: a bounded load test on 127.0.0.1. gunicorn with several workers on PostgreSQL (a
database of its own, 100,000 service referrals), locust headless running three journeys at once: a
referrer's handoff, a coach's overview, a partner's inbox. Reports requests/s, p50/p95/p99 and errors
per journey and in total (build/load.md); fails when a single request failed.

Environment: LOAD_USERS (30), LOAD_SECONDS (60), LOAD_WORKERS (4), LOAD_REFERRALS (100000),
HUB_BENCH_PG (the PostgreSQL server URL).
"""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

from bench import data
from bench.run import HANDOFF, log, login_over_http
from bench.servers import gunicorn

LOCUST = os.path.join(os.path.dirname(sys.executable), "locust")


def main() -> int:
    users = int(os.environ.get("LOAD_USERS", "30"))
    seconds = int(os.environ.get("LOAD_SECONDS", "60"))
    workers = int(os.environ.get("LOAD_WORKERS", "4"))
    referrals = int(os.environ.get("LOAD_REFERRALS", "100000"))
    url = data.pg_url("hub_load")
    log(f"migrating and seeding {url}, {referrals:,} service referrals")
    world = data.migrate_and_seed(url)
    data.grow(world, referrals, datetime.now(UTC))
    out = os.path.join(data.ROOT, "build", "load")
    os.makedirs(out, exist_ok=True)
    with gunicorn("wsgi:app", data.server_env(url), workers=workers, name="load-hub") as server:
        log(f"gunicorn with {workers} workers on 127.0.0.1:{server.port}; signing the users in")
        def signed_in(accounts):
            return [{"token": login_over_http(server.port, a)["Authorization"].split()[1]} for a in accounts]

        tokens = {"referrer": signed_in(world.referrers), "coach": signed_in(world.coaches),
                  "partner": signed_in(world.partner_users[:10]), "programmes": world.programmes, "handoff": HANDOFF}
        tokens_path = os.path.join(out, "tokens.json")
        with open(tokens_path, "w") as tokens_file:
            json.dump(tokens, tokens_file)
        server.reset_peaks()  # after the sign-ins (argon2id takes 64 MiB for a moment)
        log(f"locust: {users} users for {seconds} s")
        started = time.time()
        completed = subprocess.run(  # noqa: S603
            [LOCUST, "-f", os.path.join(data.ROOT, "bench", "locustfile.py"), "--headless", "--users", str(users),
             "--spawn-rate", str(users), "--run-time", f"{seconds}s", "--host", f"http://127.0.0.1:{server.port}",
             "--csv", os.path.join(out, "locust"), "--only-summary", "--stop-timeout", "10",
             "--loglevel", "WARNING"],
            env={**os.environ, "LOAD_TOKENS": tokens_path}, cwd=data.ROOT, check=False)
        peaks = server.peak_rss_mb()
        os.remove(tokens_path)
    with open(os.path.join(out, "locust_stats.csv")) as stats, open(os.path.join(out, "locust_failures.csv")) as fails:
        rows, failures = list(csv.DictReader(stats)), list(csv.DictReader(fails))
    path = write_report(rows, failures, users, seconds, workers, referrals, peaks, time.time() - started)
    log(f"written: {path}")
    with open(path) as report:
        print(report.read())
    total = next(r for r in rows if r["Name"] == "Aggregated")
    if int(total["Failure Count"]) or completed.returncode:
        log(f"FAILED: {total['Failure Count']} failed requests (locust exit {completed.returncode})")
        return 1
    return 0


def write_report(rows, failures, users, seconds, workers, referrals, peaks, took) -> str:
    load = os.getloadavg()
    lines = [
        "# Load test", "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC: gunicorn with {workers} sync workers on 127.0.0.1, PostgreSQL "
        f"({referrals:,} service referrals), locust headless with {users} users for {seconds} s "
        f"(0.05-0.3 s between requests); {os.cpu_count()} CPUs shared with locust itself; load average at the "
        f"end {load[0]:.1f}. Peak RSS per worker during the run: "
        f"{', '.join(f'{v:.0f} MB' for v in sorted(peaks.values()))}.", "",
        "| journey | requests | errors | req/s | p50 ms | p95 ms | p99 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in rows:
        lines.append(f"| {row['Name'] if row['Name'] != 'Aggregated' else '**all**'} | {row['Request Count']} | "
                     f"{row['Failure Count']} | {float(row['Requests/s']):.1f} | {row['50%']} | {row['95%']} | "
                     f"{row['99%']} |")
    if failures:
        lines += ["", "Failures:", ""] + [f"- {f['Method']} {f['Name']}: {f['Error']} ({f['Occurrences']}x)"
                                          for f in failures]
    path = os.path.join(data.ROOT, "build", "load.md")
    with open(path, "w") as report:
        report.write("\n".join(lines) + "\n")
    return path


if __name__ == "__main__":
    sys.exit(main())
