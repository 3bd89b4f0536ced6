"""The browser journeys' harness: a real hub on 127.0.0.1 with a fresh database, set up with the
CLI as an operator would, and headless Chromium driven by Playwright.

Nothing here uses the in-process app of tests/conftest.py: the server is a `flask run` subprocess,
its database a fresh SQLite file (or, with HUB_TEST_DATABASE_URL, a fresh PostgreSQL database of
its own, dropped afterwards), and its clock the real one, so TOTP codes are the ones an
authenticator app would show now.
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

import pyotp
import pytest
from sqlalchemy import create_engine, text

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
MISSING_CHROMIUM = (f"Chromium not found at {CHROMIUM}: install Debian's chromium package to run the "
                    "browser journeys")
REPOSITORY = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPOSITORY / "build" / "screenshots"
TEST_DATABASE_URL = os.environ.get("HUB_TEST_DATABASE_URL")
PASSWORD = "lantaarnpaal fietsbel 2026 zomer"
SERVER_START_SECONDS = 90


@pytest.fixture(autouse=True)
def database():
    """The journeys talk to their own server; they need no rolled-back transaction on the suite's
    database (this replaces tests/conftest.py's autouse fixture of the same name)."""
    yield


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    if not CHROMIUM.exists():
        pytest.skip(MISSING_CHROMIUM)
    return str(CHROMIUM)


@dataclass
class Person:
    """A hub user as the journey knows them: what they would type in, and their authenticator app."""

    email: str
    name: str
    role: str
    organisation: str
    otpauth_uri: str
    password: str = PASSWORD
    last_step: int = field(default=-1)

    def code(self) -> str:
        """The code the user's app shows now. A code is accepted once per 30-second step: if this
        user already used this step's code, wait for the next step (the journeys' only sleep)."""
        totp = pyotp.parse_uri(self.otpauth_uri)
        step = int(time.time() // totp.interval)
        if step <= self.last_step:
            time.sleep((self.last_step + 1) * totp.interval - time.time() + 0.2)
            step = int(time.time() // totp.interval)
        self.last_step = step
        return totp.at(step * totp.interval)


@dataclass
class Hub:
    base_url: str
    log: Path
    organisations: dict[str, int] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    setup: str = ""
    env: dict[str, str] = field(default_factory=dict)  # the server's environment, for the operator's commands

    def server_log(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment(database_url: str, instance: Path, base_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "FLASK_"))}
    env.update(HUB_ENV="development", HUB_INSTANCE_PATH=str(instance), HUB_DATABASE_URL=database_url,
               HUB_BASE_URL=base_url, PYTHONUNBUFFERED="1")
    return env


@pytest.fixture(scope="session")
def fresh_database_url(tmp_path_factory) -> Iterator[str]:
    """A fresh SQLite file, or a fresh PostgreSQL database beside HUB_TEST_DATABASE_URL's."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp('browser-db')}/hub.sqlite3"
        return
    name = f"hub_browser_{os.getpid()}"
    admin = create_engine(TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield TEST_DATABASE_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# The journey's cast: organisations (name, kind) and one user per role, all in Arnhem.
ORGANISATIONS = {
    "police": ("Politie Gelderland-Zuid", "police"),
    "programme": ("Uitstapprogramma Arnhem", "exit_programme"),
    "debt_relief": ("Schuldhulp Rijnstad", "debt_relief"),
    "municipality": ("Gemeente Arnhem", "municipality"),
}
PEOPLE = {
    "referrer": ("agent@politie.test", "Agent Jansen", "referrer", "police"),
    "coach": ("coach@uitstap.test", "Coach De Vries", "coach", "programme"),
    "partner": ("consulent@schuldhulp.test", "Consulent Visser", "partner", "debt_relief"),
    "director": ("regisseur@arnhem.test", "Regisseur Bakker", "director", "municipality"),
    "admin": ("beheer@arnhem.test", "Beheerder Smits", "admin", "municipality"),
}


def _commands() -> list[dict]:
    """What an operator types to set up the journey's hub: migrate, then organisations and users."""
    commands = [{"name": "migrate", "args": ["db", "upgrade"]}]
    commands += [{"name": key, "args": ["hub", "org", "create", "--name", name, "--kind", kind,
                                        "--municipality", "Arnhem"]}
                 for key, (name, kind) in ORGANISATIONS.items()]
    commands += [{"name": f"user-{key}", "stdin": PASSWORD + "\n",
                  "args": ["hub", "user", "create", "--email", email, "--name", name, "--role", role,
                           "--organisation", f"{{{organisation}[id]}}", "--password-stdin"]}
                 for key, (email, name, role, organisation) in PEOPLE.items()]
    return commands


@pytest.fixture(scope="session")
def hub(chromium_executable, fresh_database_url, tmp_path_factory) -> Iterator[Hub]:
    """The CLI migrates a fresh database and registers the cast (tests/browser/flask_batch.py: the
    same `flask --app wsgi ...` commands in one interpreter); the server (`flask run --no-reload`)
    starts as soon as the migrations are done. Answers once the server's /healthz does."""
    began = time.monotonic()
    instance = tmp_path_factory.mktemp("browser-instance")
    port = _free_port()
    hub = Hub(f"http://127.0.0.1:{port}", SCREENSHOTS / "server.log")
    env = hub.env = _environment(fresh_database_url, instance, hub.base_url)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*"):
        if old.is_file() and re.fullmatch(r"\d\d-.*\.png|server\.log", old.name):
            old.unlink()
    operator = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "tests.browser.flask_batch"], cwd=REPOSITORY, env=env, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    operator.stdin.write(json.dumps(_commands()))
    operator.stdin.close()
    server = None
    answers: dict[str, dict] = {}
    try:
        for line in operator.stdout:
            done = json.loads(line)
            assert done["exit_code"] == 0, (f"flask {done['name']} failed:\n{done['stdout']}\n{done['stderr']}")
            answers[done["name"]] = json.loads(done["stdout"].strip().splitlines()[-1]) if done["stdout"].strip() \
                else {}
            if done["name"] == "migrate":
                migrated = time.monotonic()
                with hub.log.open("w") as log:
                    server = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                        [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--no-reload", "--host",
                         "127.0.0.1", "--port", str(port)], cwd=REPOSITORY, env=env, stdout=log,
                        stderr=subprocess.STDOUT)
        assert operator.wait(timeout=60) == 0 and server is not None, "the CLI set-up stopped early"
        registered = time.monotonic()
        hub.organisations = {key: answers[key]["id"] for key in ORGANISATIONS}
        hub.people = {key: Person(email, name, role, ORGANISATIONS[organisation][0],
                                  answers[f"user-{key}"]["otpauth_uri"])
                      for key, (email, name, role, organisation) in PEOPLE.items()}
        _wait_until_serving(server, hub)
        hub.setup = (f"set up in {time.monotonic() - began:.1f} s (migrations {migrated - began:.1f} s, "
                     f"organisations and users {registered - migrated:.1f} s, serving "
                     f"{time.monotonic() - registered:.1f} s later)")
        yield hub
    finally:
        for process in (operator, server):
            if process is None:
                continue
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        operator.stdout.close()


def _wait_until_serving(process: subprocess.Popen, server: Hub) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the hub's server stopped (exit code {process.returncode}):\n{server.server_log()}")
        try:
            with urlopen(f"{server.base_url}/healthz", timeout=2) as answer:  # noqa: S310 - our own http URL
                if answer.status == 200:
                    return
        except (URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(f"the hub's server did not answer on {server.base_url} within {SERVER_START_SECONDS} s:\n"
                f"{server.server_log()}")


@pytest.fixture(scope="session")
def browser(chromium_executable):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: "
                                   "pip install -e '.[test]' to run the browser journeys")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
