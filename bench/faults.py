"""`make faults`, part two: a burst of handoffs against gunicorn on PostgreSQL while one worker is
killed (SIGKILL) in the middle and PostgreSQL is restarted once. Then:
- every handoff that was answered 201 exists exactly once, whole: its client, its consent (with its
  scope), its story, its audit event;
- nothing is half-written: every client made during the burst has exactly one handoff, one consent
  and its whole story, whether its request got its 201 or not (a request cut off after the commit
  may have written a whole handoff that nobody heard of; never a part of one);
- the hub recovers by itself: after the restart, handoffs succeed again.

The shared PostgreSQL server is restarted, never left stopped:
    pg_ctlcluster --skip-systemctl-redirect <version> main restart
and the test waits until it answers again. A database of its own (hub_faults) holds the data.
Environment: FAULTS_SECONDS (30), FAULTS_CONNECTIONS (6).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

from bench import data
from bench.loadgen import http_request
from bench.run import HANDOFF, log, login_over_http
from bench.servers import gunicorn


def _cluster_version() -> str | None:
    if os.environ.get("HUB_PG_VERSION"):
        return os.environ["HUB_PG_VERSION"]
    if os.path.isdir("/etc/postgresql") and os.listdir("/etc/postgresql"):
        return sorted(os.listdir("/etc/postgresql"), key=float)[-1]
    return None


PG_VERSION = _cluster_version()


def pg_answers() -> bool:
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"], check=False).returncode == 0  # noqa: S603, S607


def restart_postgresql() -> float:
    """Restart the cluster and wait until it answers; returns how long it was away."""
    began = time.time()
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, "main", "restart"],  # noqa: S603, S607
                   check=True, timeout=120)
    for _ in range(120):
        if pg_answers():
            return time.time() - began
        time.sleep(0.5)
    raise RuntimeError("PostgreSQL does not answer after its restart")


def _send(port: int, request: bytes) -> tuple[int, dict | None]:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(request)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    except OSError:
        return 0, None  # no answer: the connection was cut (a killed worker) or refused
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/"):
        return 0, None
    status = int(head.split(b" ", 2)[1])
    try:
        return status, json.loads(body) if body else None
    except ValueError:
        return status, None


def main() -> int:
    if PG_VERSION is None:
        print("no PostgreSQL cluster under /etc/postgresql: the fault test needs one it may restart")
        return 1
    seconds = float(os.environ.get("FAULTS_SECONDS", "30"))
    connections = int(os.environ.get("FAULTS_CONNECTIONS", "6"))
    url = data.pg_url("hub_faults")
    log(f"migrating and seeding {url}")
    world = data.migrate_and_seed(url)
    programme = world.programmes[0]
    answers: list[tuple[float, int, dict | None]] = []
    lock = threading.Lock()
    events: dict[str, float] = {}
    with gunicorn("wsgi:app", data.server_env(url), workers=3, name="faults-hub",
                  extra=("--timeout", "20")) as server:
        request = http_request("POST", "/api/v1/referrals", json.dumps({**HANDOFF, "to_organisation_id": programme})
                               .encode(), login_over_http(server.port, world.referrers[0]))
        stop = time.time() + seconds

        def burst():
            while time.time() < stop:
                status, body = _send(server.port, request)
                with lock:
                    answers.append((time.time(), status, body))
                if status == 0 or status >= 500:
                    time.sleep(0.05)

        threads = [threading.Thread(target=burst) for _ in range(connections)]
        started = time.time()
        for thread in threads:
            thread.start()
        time.sleep(seconds * 0.25)
        victim = server.workers()[0]
        os.kill(victim, signal.SIGKILL)
        events["worker killed"] = time.time() - started
        log(f"SIGKILL to worker {victim} at {events['worker killed']:.1f} s")
        time.sleep(seconds * 0.25)
        events["postgresql restart began"] = time.time() - started
        away = restart_postgresql()
        events["postgresql answers again"] = time.time() - started
        log(f"PostgreSQL restarted at {events['postgresql restart began']:.1f} s, answering after {away:.1f} s")
        for thread in threads:
            thread.join()
        workers_after = server.workers()
    return check(world, answers, events, started, victim, workers_after)


def check(world: data.World, answers, events, started, victim, workers_after) -> int:
    import psycopg

    statuses = Counter(status for _at, status, _body in answers)
    created = [body["id"] for _at, status, body in answers if status == 201]
    recovered = [status for at, status, _body in answers if at - started > events["postgresql answers again"] + 3]
    problems = []
    with psycopg.connect(world.url) as connection:
        rows = connection.execute(
            "SELECT h.id, h.client_id, c.id, k.id, (SELECT count(*) FROM consent_scope s WHERE s.consent_id = k.id), "
            "(SELECT count(*) FROM story_domains d WHERE d.client_id = c.id), "
            "(SELECT count(*) FROM audit_events a WHERE a.object_type = 'handoff' AND a.object_id = h.id::text) "
            "FROM handoffs h LEFT JOIN clients c ON c.id = h.client_id LEFT JOIN consents k ON k.id = h.consent_id "
            "WHERE h.id = ANY(%s)", [created]).fetchall()
        found = {row[0]: row for row in rows}
        for handoff_id in created:
            row = found.get(handoff_id)
            if row is None:
                problems.append(f"handoff {handoff_id} answered 201 but is not in the database")
            elif row[2] is None or row[3] is None or row[4] != len(HANDOFF["consent"]["scope"]) \
                    or row[5] != len(HANDOFF["story"]["domains"]) or row[6] != 1:
                problems.append(f"handoff {handoff_id} is not whole: {row}")
        if len(set(created)) != len(created):
            problems.append("the same handoff id was answered twice")
        # every client of the burst (the seed made none): exactly one handoff, one consent, a whole story
        half = connection.execute(
            "SELECT c.id, (SELECT count(*) FROM handoffs h WHERE h.client_id = c.id), "
            "(SELECT count(*) FROM consents k WHERE k.client_id = c.id), "
            "(SELECT count(*) FROM story_domains d WHERE d.client_id = c.id) FROM clients c").fetchall()
        clients = len(half)
        problems += [f"client {c} is half-written: {h} handoffs, {k} consents, {d} story domains"
                     for c, h, k, d in half if (h, k, d) != (1, 1, len(HANDOFF["story"]["domains"]))]
        orphans = connection.execute("SELECT count(*) FROM handoffs h LEFT JOIN clients c ON c.id = h.client_id "
                                     "WHERE c.id IS NULL").fetchone()[0]
        if orphans:
            problems.append(f"{orphans} handoffs without their client")
    if not recovered or recovered.count(201) == 0 or recovered[-5:].count(201) < 5:
        problems.append(f"no recovery after the restart: the last answers were {recovered[-10:]}")
    if victim in workers_after:
        problems.append("the killed worker is still listed")
    report = [
        "# Fault test", "",
        f"{len(answers)} handoff requests over {round(answers[-1][0] - started) if answers else 0} s "
        f"by {os.environ.get('FAULTS_CONNECTIONS', '6')} connections to gunicorn (3 sync workers) on PostgreSQL.",
        "", *[f"- {name}: {at:.1f} s" for name, at in events.items()], "",
        f"Answers: {dict(sorted(statuses.items()))} (0: the connection was cut or refused). "
        f"201s: {len(created)}, all found whole and once. Clients in the database: {clients}, each with exactly one "
        f"handoff, one consent and its whole story (so {clients - len(created)} requests cut off after their "
        "commit wrote whole handoffs nobody heard of, and none wrote part of one).",
        f"After PostgreSQL answered again: {Counter(recovered)}.", "",
        "Result: " + ("PASSED" if not problems else "FAILED"), "", *[f"- {p}" for p in problems]]
    path = os.path.join(data.ROOT, "build", "faults.md")
    with open(path, "w") as out:
        out.write("\n".join(report) + "\n")
    print("\n".join(report))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
