"""The hub as its users see it, third journey: last year's waits, imported, on the director's pages.

The other journeys never start any help, so their reports can only say "no wait measured yet". Here
the operator registers a housing partner and imports last year's spreadsheets with the CLI, as a
municipality does when it starts with the hub: six clients who went through the programme, each
referred to the housing partner in May and helped after one to six weeks. The chain director then
chooses last year on the report pages and sees what those waits cost: the client-days lost on the
bottleneck page, the median and 90th percentile on the waiting-times page, and the inflow and exits
of the uniform registration.

Written not to disturb the other journeys on the shared hub, in either order: another partner and
life domain (housing, which they never refer to), and everything dated and closed last year, outside
the reports' default period (this year so far). Screenshots: build/screenshots/h01-....png.
"""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.browser.conftest import REPOSITORY, Hub
from tests.browser.test_journey_rights_and_reports import row_cells, totals
from tests.browser.test_journeys import Shots, menu, run_journey, sign_in

PARTNER = "Woonstichting Rijnstad"
WAITS = (7, 14, 21, 28, 35, 42)  # days from the request to the start of the help, one per client
REQUESTED_MONTH_DAY = (5, 4)  # 4 May: requests and starts all in summer time, so every day is 24 hours
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def test_history_journey(browser, hub: Hub, tmp_path):
    run_journey("browser journey (history)", lambda *args: _journey(*args, folder=tmp_path), browser, hub,
                prefix="h")


def operator(hub: Hub, *args: str) -> dict:
    """`flask --app wsgi <args>` as the operator types it on the hub's server; its JSON answer."""
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=REPOSITORY, env=hub.env,  # noqa: S603
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def spreadsheet(path: Path, header: str, rows: list[str]) -> str:
    """A CSV as Dutch Excel saves it: semicolons, a byte-order mark."""
    path.write_text("\ufeff" + "\n".join([header, *rows]) + "\n", encoding="utf-8")
    return str(path)


def choose_period(page, first: date, last: date) -> None:
    period = page.get_by_role("search", name="Kies de periode")
    period.get_by_label("Van").fill(first.isoformat())
    period.get_by_label("Tot en met").fill(last.isoformat())
    period.get_by_role("button", name="Tonen").click()
    page.wait_for_url(f"**to={last.isoformat()}*")


def number(text: str) -> float:
    """A figure as the Dutch interface writes it: 1.234,5."""
    return float(text.replace(".", "").replace(",", "."))


def percentile(values: list[int], share: float) -> float:
    """Continuous percentile, as PostgreSQL's percentile_cont computes it."""
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def _journey(browser, hub: Hub, shot: Shots, pages: list, *, folder: Path) -> None:
    last_year = datetime.now(AMSTERDAM).year - 1
    requested = date(last_year, *REQUESTED_MONTH_DAY)
    programme = hub.organisations["programme"]

    # --- 1. The operator registers the housing partner and imports last year's registrations ----------
    partner = operator(hub, "hub", "org", "create", "--name", PARTNER, "--kind", "housing", "--municipality", "Arnhem")
    clients = [f"ARN-{last_year}-{number:03d}" for number in range(1, len(WAITS) + 1)]
    trajectories = spreadsheet(
        folder / "trajecten.csv",
        "programme_id;client_ref;entered_on;outcome;outcome_on;gender;birth_year;legal_status;target_groups;municipality",
        [f"{programme};{client};{last_year}-04-01;exited;{last_year}-11-30;female;1990;resident;;Arnhem"
         for client in clients])
    answer = operator(hub, "hub", "import", "trajectories", trajectories)
    assert answer["imported"] == len(WAITS) and answer["clients_created"] == len(WAITS), answer
    referrals = spreadsheet(
        folder / "verwijzingen.csv",
        "programme_id;client_ref;partner_id;domain;requested_on;received_on;intake_on;started_on;completed_on;rejected_on",
        [f"{programme};{client};{partner['id']};housing;{requested};;;{requested + timedelta(days=wait)};"
         f"{last_year}-10-01;" for client, wait in zip(clients, WAITS, strict=True)])
    answer = operator(hub, "hub", "import", "service-referrals", referrals)
    assert answer["imported"] == len(WAITS) and answer["open"] == 0, answer
    again = operator(hub, "hub", "import", "service-referrals", referrals)  # a second run adds nothing
    assert again["imported"] == 0 and again["skipped_existing"] == len(WAITS), again

    # --- 2. The chain director finds last year's bottleneck: every day on the partner's side -----------
    director = sign_in(browser, hub, hub.people["director"], pages)
    menu(director, "Rapportages")
    director.wait_for_url("**/reports/bottlenecks")
    ranked = director.get_by_role("table", name="Partners op volgorde")
    assert director.get_by_role("rowheader", name=PARTNER).count() == 0  # this year: nobody waited for it
    choose_period(director, date(last_year, 1, 1), date(last_year, 12, 31))
    lost, partner_side, client_side, municipality_side, escalations = row_cells(ranked, director, PARTNER)[1:]
    assert number(lost) == number(partner_side) == sum(WAITS), (lost, partner_side)
    assert number(client_side) == number(municipality_side) == 0 and escalations == "0"
    assert all(client not in director.content() for client in clients)  # figures, never a client
    shot(director, "director-bottlenecks-last-year")

    # --- 3. ... the waiting times: the median and the 90th percentile of the six waits -----------------
    director.get_by_role("navigation", name="Rapportages").get_by_role("link", name="Wachttijden").click()
    director.wait_for_url("**/reports/waiting-times")
    choose_period(director, date(last_year, 1, 1), date(last_year, 12, 31))
    waiting = director.get_by_role("table", name="Wachttijden")
    referred, begun, median, p90, waiting_now, longest = row_cells(waiting, director, PARTNER)
    assert (referred, begun, waiting_now, longest) == ("6", "6", "0", "—")
    assert "," in median  # 24,5: a Dutch decimal comma
    assert number(median) == percentile(list(WAITS), 0.5) and number(p90) == round(percentile(list(WAITS), 0.9), 1)
    shot(director, "director-waiting-times-last-year")

    # --- 4. ... and the uniform registration: six came in, six got out ---------------------------------
    director.get_by_role("navigation", name="Rapportages").get_by_role("link", name="Uniforme registratie").click()
    director.wait_for_url("**/reports/registration")
    period = director.get_by_role("search", name="Kies het programma en de periode")
    period.get_by_label("Van").fill(f"{last_year}-01-01")
    period.get_by_label("Tot en met").fill(f"{last_year}-12-31")
    period.get_by_role("button", name="Tonen").click()
    director.wait_for_url(f"**to={last_year}-12-31*")
    figures = totals(director)
    assert figures["Instroom"] == figures["Uitgestapt"] == str(len(WAITS)), figures
    shot(director, "director-registration-last-year")
