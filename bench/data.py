"""Bench data, made fast: the few organisations and accounts through the hub's own services, the
bulk (clients, consents, handoffs, service referrals, trajectories with outcomes and plan goals)
straight into the tables with executemany (SQLite) or COPY (PostgreSQL), never the ORM one row at a
time. The waiting day counts and the registration facts, which triggers keep in normal use, are counted
afresh after each bulk load (the load bypasses the triggers, as it bypasses the indexes).

Sealed columns (alias, notes) hold placeholder text: nothing the benchmarks run decrypts them.

The bulk follows one distribution at every size, so 100,000 and 1,000,000 rows compare:
79 % of the service referrals are closed, 20 % open within their norm, 1 % stalled (open for
longer than their norm allows: exactly the rows the escalation sweep must find). Completed referrals
started at a moment between their request and their completion. Every other client has a trajectory
(so 100,000 at 1,000,000 referrals), 60 % of them closed with an outcome, each with two plan goals.
"""
from __future__ import annotations

import os
import random
import shutil
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pyotp
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from config import Config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build", "bench")
PG_SERVER = os.environ.get("HUB_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
PASSWORD = "bench lantaarnpaal fietsbel 2026"  # noqa: S105  (bench accounts on 127.0.0.1)
PROGRAMMES = 10
PARTNERS = (("debt_relief", "finances"), ("addiction_care", "mental_health"), ("mental_health", "mental_health"),
            ("housing", "housing"), ("shelter", "housing"), ("benefits", "finances"), ("education", "work"),
            ("employment", "work"), ("legal_aid", "legal"))
MUNICIPALITIES = ("Utrecht", "Arnhem", "Amsterdam", "Rotterdam", "Den Haag")
CLOSED = ("completed", "rejected", "cancelled")
# open statuses and the working days the general rules of config/sla.toml allow in them
NORMS = {"requested": 3, "received": 3, "waitlisted": 20, "intake_scheduled": 20}
STALLED_SHARE, OPEN_SHARE = 0.01, 0.20
REFERRALS_PER_CLIENT = 5
GENDERS = ("female", "female", "female", "male", "transgender", "nonbinary", "unknown")
LEGAL = ("resident", "resident", "self_employed_only", "no_residence")
TARGET_GROUPS = ('[]', '["trafficking_victim"]', '["man"]', '["trafficking_victim", "undocumented"]',
                 '["home_worker"]', '["transgender", "trafficking_victim"]')
OUTCOMES = ("exited", "exited", "dropped_out", "moved", "other")
DOMAINS = ("housing", "finances", "social", "mental_health", "meaning", "physical_health", "practical", "work",
           "legal")


def sqlite_url(name: str) -> str:
    return f"sqlite:///{os.path.join(BUILD, name + '.sqlite3')}"


def pg_url(name: str) -> str:
    return f"{PG_SERVER}/{name}"


def fresh_database(url: str) -> None:
    """Drop and create the bench database (a file, or a database on the PostgreSQL server)."""
    os.makedirs(BUILD, exist_ok=True)
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        return
    server, name = url.rsplit("/", 1)
    admin = create_engine(server.replace("postgresql://", "postgresql+psycopg://", 1) + "/postgres",
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def instance_path() -> str:
    """One instance folder for every bench process: the same development field keys everywhere."""
    path = os.path.join(BUILD, "instance")
    os.makedirs(path, exist_ok=True)
    return path


def bench_app(url: str) -> Flask:
    from hub import create_app

    return create_app(Config(env="development", instance_path=instance_path(), database_url=url))


def server_env(url: str) -> dict:
    """The environment for a gunicorn serving `wsgi:app` on the bench database."""
    return {**os.environ, "HUB_ENV": "development", "HUB_DATABASE_URL": url, "HUB_INSTANCE_PATH": instance_path()}


@dataclass
class Account:
    id: int
    email: str
    secret: str
    organisation_id: int
    role: str

    def otp(self, at: datetime | None = None) -> str:
        return pyotp.TOTP(self.secret).at(at or datetime.now(UTC))


@dataclass
class World:
    url: str
    programmes: list[int] = field(default_factory=list)
    coaches: list[Account] = field(default_factory=list)  # one per programme, in programme order
    referrers: list[Account] = field(default_factory=list)
    partners: list[tuple[int, str, str, str]] = field(default_factory=list)  # (id, kind, domain, municipality)
    partner_users: list[Account] = field(default_factory=list)  # one per partner
    director: Account | None = None
    admin: Account | None = None
    clients: int = 0
    referrals: int = 0
    stalled: int = 0
    sqlite_path: str | None = None

    @property
    def accounts(self) -> list[Account]:
        return [*self.coaches, *self.referrers, *self.partner_users, self.director, self.admin]


def migrate_and_seed(url: str) -> World:
    """A fresh, migrated database with organisations and one account per role (made by the hub)."""
    from hub.auth.service import create_user
    from hub.extensions import db
    from hub.partners.service import create_organisation

    fresh_database(url)
    _cheap_password_hashes()
    app = bench_app(url)
    world = World(url=url, sqlite_path=url.removeprefix("sqlite:///") if url.startswith("sqlite") else None)
    counter = iter(range(1, 10_000))

    def account(role: str, organisation_id: int) -> Account:
        email = f"{role}{next(counter)}@bench.test"
        user, _uri = create_user(email=email, name=f"Bench {role}", organisation_id=organisation_id, role=role,
                                 password=PASSWORD, with_totp=True)
        db.session.flush()
        return Account(user.id, email, user.totp_secret, organisation_id, role)

    with app.app_context():
        upgrade()
        with app.test_request_context():
            for index in range(PROGRAMMES):
                org = create_organisation(name=f"Uitstap {index + 1}", kind="exit_programme",
                                          municipality=MUNICIPALITIES[index % len(MUNICIPALITIES)])
                db.session.flush()
                world.programmes.append(org.id)
                world.coaches.append(account("coach", org.id))
            police = create_organisation(name="Politie Bench", kind="police", municipality="Utrecht")
            db.session.flush()
            world.referrers = [account("referrer", police.id) for _ in range(4)]
            for municipality in MUNICIPALITIES:
                for kind, domain in PARTNERS:
                    org = create_organisation(name=f"{kind} {municipality}", kind=kind, municipality=municipality)
                    db.session.flush()
                    world.partners.append((org.id, kind, domain, municipality))
                    world.partner_users.append(account("partner", org.id))
            city = create_organisation(name="Gemeente Bench", kind="municipality", municipality="Utrecht")
            db.session.flush()
            world.director = account("director", city.id)
            world.admin = account("admin", city.id)
            db.session.commit()
        db.engine.dispose()
    return world


def _cheap_password_hashes() -> None:
    """argon2id still, at the test suite's cost: signing in is not what these benchmarks measure."""
    from argon2 import PasswordHasher

    import hub.auth.passwords as passwords

    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


class _Stamps:
    """How the hub's UTCDateTime stores a moment, written fast from epoch seconds: naive UTC text on
    SQLite ("2026-11-23 09:00:00.000000"), text with a zone for PostgreSQL's COPY."""

    def __init__(self, sqlite: bool):
        self.suffix = ".000000" if sqlite else "+00"
        self.days: dict[int, str] = {}

    def __call__(self, epoch: int | None) -> str | None:
        if epoch is None:
            return None
        day, second = divmod(int(epoch), 86400)
        prefix = self.days.get(day)
        if prefix is None:
            prefix = self.days[day] = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d")
        return f"{prefix} {second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}{self.suffix}"


DAY, HOUR = 86400, 3600


def _rows(world: World, first_client: int, clients: int, now: datetime, seed: int):
    """The bulk rows for clients first_client.. first_client+clients-1 (ids assigned here)."""
    rng = random.Random(seed)
    rand = rng.random
    stamp = _Stamps(world.sqlite_path is not None)
    now_s = int(now.timestamp())
    coach_by_programme = dict(zip(world.programmes, world.coaches, strict=True))
    referrer = world.referrers[0]
    partners, norms, open_statuses = world.partners, list(NORMS), (*NORMS, "in_progress")
    client_rows, consent_rows, scope_rows, handoff_rows, referral_rows, clock_rows = [], [], [], [], [], []
    trajectory_rows, goal_rows = [], []
    today = now.date()
    referral_id = world.referrals
    stalled = 0
    for client_id in range(first_client, first_client + clients):
        programme = world.programmes[client_id % len(world.programmes)]
        coach = coach_by_programme[programme]
        created_s = now_s - int((30 + rand() * 3 * 365) * DAY)
        created = stamp(created_s)
        client_rows.append((client_id, f"c{client_id:031d}", programme, "sealed", GENDERS[int(rand() * len(GENDERS))],
                            1990, "[]", "Utrecht", "Utrecht", LEGAL[int(rand() * len(LEGAL))],
                            TARGET_GROUPS[int(rand() * len(TARGET_GROUPS))], created))
        consent_rows.append((client_id, client_id, programme, "handoff", "verbal", "sealed", "0" * 64, referrer.id,
                             referrer.organisation_id, created, created))
        scope_rows.append((client_id, "story"))
        handoff_rows.append((client_id, f"h{client_id:031d}", client_id, referrer.organisation_id, referrer.id,
                             programme, client_id, "normal", "accepted", created, created, coach.id, coach.id, 1))
        if client_id % 2 == 0:  # a trajectory, opened soon after the handoff; 60 % closed with an outcome
            trajectory_id = client_id // 2
            opened = date.fromtimestamp(created_s) + timedelta(days=int(rand() * 20))
            closed = min(opened + timedelta(days=30 + int(rand() * 500)), today) if rand() < 0.6 else None
            trajectory_rows.append((
                trajectory_id, f"t{trajectory_id:031d}", client_id, 1, programme, client_id, opened.isoformat(),
                created, coach.id, closed and closed.isoformat(), closed and created, closed and coach.id,
                closed and OUTCOMES[int(rand() * len(OUTCOMES))]))
            for number in range(2):
                goal_id = trajectory_id * 2 + number
                goal_rows.append((goal_id, f"g{goal_id:031d}", trajectory_id, DOMAINS[int(rand() * len(DOMAINS))],
                                  8, created, coach.id))
        chosen: set[int] = set()  # a partner once per client: one open referral to a partner for a domain
        for _ in range(REFERRALS_PER_CLIENT):
            referral_id += 1
            index = int(rand() * len(partners))
            while index in chosen:
                index = int(rand() * len(partners))
            chosen.add(index)
            partner_id, kind, domain, _municipality = partners[index]
            requested_s = created_s + int(rand() * (now_s - created_s - DAY))
            draw = rand()
            if draw < STALLED_SHARE:  # open for longer than its norm: 1.4 x its working days + a margin
                status = norms[int(rand() * len(norms))]
                since_s = now_s - int((NORMS[status] * 1.4 + 10 + rand() * 30) * DAY)
                sla_status, stalled = status, stalled + 1
            elif draw < STALLED_SHARE + OPEN_SHARE:  # open, within its norm (fewer calendar days than working)
                status = open_statuses[int(rand() * len(open_statuses))]
                if status == "in_progress":  # treatment runs for months; only some kinds have a norm here
                    days = 45 if kind in ("addiction_care", "mental_health") else 300
                    since_s = now_s - int((1 + rand() * days) * DAY)
                else:
                    since_s = now_s - int(rand() * (NORMS[status] - 1) * DAY)
                sla_status = status
            else:
                status, sla_status = CLOSED[int(rand() * 3)], None
                since_s = requested_s + int((1 + rand() * 120) * DAY)
            started_s = requested_s + int(rand() * (since_s - requested_s)) if status == "completed" else None
            if sla_status is not None:  # requested before the current status began
                requested_s = min(requested_s, since_s - int(rand() * 60 * DAY))
            since_s = min(max(since_s, requested_s), now_s)
            since = stamp(since_s)
            started = since if status == "in_progress" else stamp(min(started_s, since_s)) if started_s else None
            referral_rows.append((
                referral_id, f"r{referral_id:031d}", client_id, programme, partner_id, domain, client_id, "sealed",
                coach.id, stamp(requested_s), status, since, started,
                since if sla_status is None else None, 1, False))
            if sla_status is not None:  # an open referral's escalation clock
                clock_rows.append((referral_id, sla_status, since, 1, partner_id, client_id, domain, False))
    return (client_rows, consent_rows, scope_rows, handoff_rows, referral_rows, clock_rows, trajectory_rows,
            goal_rows, referral_id, stalled)


TABLES = {
    "clients": ("id", "uid", "programme_id", "alias", "gender", "birth_year", "languages",
                "municipality_of_residence", "municipality_of_work", "legal_status", "target_groups", "created_at"),
    "consents": ("id", "client_id", "recipient_organisation_id", "purpose", "method", "statement", "statement_hash",
                 "recorded_by_id", "recorded_by_organisation_id", "recorded_at", "valid_from"),
    "consent_scope": ("consent_id", "item"),
    "handoffs": ("id", "uid", "client_id", "from_organisation_id", "from_user_id", "to_organisation_id",
                 "consent_id", "urgency", "status", "submitted_at", "accepted_at", "coach_id", "accepted_by_id",
                 "version"),
    "service_referrals": ("id", "uid", "client_id", "programme_id", "organisation_id", "domain", "consent_id", "note",
                          "requested_by_id", "requested_at", "status", "status_since", "started_at", "closed_at",
                          "version", "urgent"),
    "sla_clocks": ("service_referral_id", "status", "since", "episode", "organisation_id", "client_id", "domain",
                   "urgent"),
    "trajectories": ("id", "uid", "client_id", "number", "programme_id", "handoff_id", "opened_on", "opened_at",
                     "opened_by_id", "closed_on", "closed_at", "closed_by_id", "outcome"),
    "trajectory_goals": ("id", "uid", "trajectory_id", "domain", "target", "created_at", "created_by_id"),
}


def grow(world: World, referrals: int, now: datetime, seed: int = 7, batch_clients: int = 20_000) -> World:
    """Add bulk rows until the service_referrals table holds `referrals` rows."""
    with _bulk_writer(world) as write:
        while world.referrals < referrals:
            clients = min(batch_clients, (referrals - world.referrals) // REFERRALS_PER_CLIENT)
            *tables, last_id, stalled = _rows(world, world.clients + 1, clients, now, seed + world.clients)
            write(dict(zip(TABLES, tables, strict=True)))
            world.clients += clients
            world.referrals, world.stalled = last_id, world.stalled + stalled
    _recount(world)
    _analyze(world)
    return world


@contextmanager
def _bulk_writer(world: World):
    """A bulk load as database people do it: the secondary (ix_*) indexes of the bulk tables dropped
    first and built again at the end, foreign keys not checked row by row (the rows are consistent by
    construction). The schema is exactly the migrated one again afterwards."""
    names = tuple(TABLES)
    if world.sqlite_path:
        connection = sqlite3.connect(world.sqlite_path, isolation_level=None)
        connection.execute("PRAGMA foreign_keys=OFF")
        connection.execute("PRAGMA cache_size=-400000")
        indexes = connection.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name LIKE 'ix\\_%' ESCAPE '\\' "
            f"AND tbl_name IN ({', '.join('?' * len(names))})", names).fetchall()
        triggers = connection.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                      "AND (name LIKE 'waiting_day_counts_%' OR name LIKE 'registration_facts_%')"
                                      ).fetchall()
        for name, _sql in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        for name, _sql in triggers:
            connection.execute(f'DROP TRIGGER "{name}"')

        def write(rows_by_table):
            connection.execute("BEGIN IMMEDIATE")
            for table, rows in rows_by_table.items():
                columns = TABLES[table]
                connection.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                                       f"({', '.join('?' * len(columns))})", rows)
            connection.execute("COMMIT")

        try:
            yield write
        finally:
            for _name, sql in [*indexes, *triggers]:
                connection.execute(sql)
            connection.close()
        return
    import psycopg

    with psycopg.connect(world.url, autocommit=True) as connection:
        # no per-row foreign key triggers, nor those of the day counts and the registration facts (counted
        # afresh afterwards)
        connection.execute("SET session_replication_role = replica")
        connection.execute("SET maintenance_work_mem = '256MB'")
        indexes = connection.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND indexname LIKE 'ix\\_%%' "
            "AND tablename = ANY(%s)", [list(names)]).fetchall()
        for name, _sql in indexes:
            connection.execute(f'DROP INDEX "{name}"')

        def write(rows_by_table):
            with connection.transaction(), connection.cursor() as cursor:
                for table, rows in rows_by_table.items():
                    with cursor.copy(f"COPY {table} ({', '.join(TABLES[table])}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)

        try:
            yield write
        finally:
            for _name, sql in indexes:
                connection.execute(sql)


def _recount(world: World) -> None:
    """The waiting day counts and the registration facts, counted afresh: the bulk load went around the
    triggers that keep them."""
    from hub.reports import registration_facts
    from hub.reports.waiting_live import rebuild_day_counts

    app = bench_app(world.url)
    with app.app_context():
        from hub.extensions import db

        with db.engine.begin() as connection:
            rebuild_day_counts(connection)
            registration_facts.rebuild(connection)
        db.engine.dispose()


def _analyze(world: World) -> None:
    """Fresh planner statistics and sequences after the bulk load, as autovacuum would make them."""
    if world.sqlite_path:
        connection = sqlite3.connect(world.sqlite_path, isolation_level=None)
        connection.execute("ANALYZE")
        connection.close()
        return
    import psycopg

    with psycopg.connect(world.url, autocommit=True) as connection:
        for table in TABLES:
            if table not in ("consent_scope", "sla_clocks"):
                connection.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                   f"(SELECT max(id) FROM {table}))")
        connection.execute("VACUUM ANALYZE")


def remove_build() -> None:
    shutil.rmtree(BUILD, ignore_errors=True)
