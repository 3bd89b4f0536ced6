"""Importing history from the programmes' spreadsheets: counted in the reports exactly like live
work, all or nothing with every bad row named, idempotent, and invisible to the live workflow."""
from __future__ import annotations

import glob
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from config import Config
from hub import create_app
from hub.audit.models import AuditEvent
from hub.errors import Invalid
from hub.extensions import db
from hub.imports.schemas import SERVICE_REFERRAL_COLUMNS, TRAJECTORY_COLUMNS
from hub.imports.service_referrals import import_service_referrals
from hub.imports.trajectories import import_trajectories
from hub.referrals.escalation import escalate_overdue
from hub.referrals.models import Client, Trajectory
from hub.referrals.service_referral_models import Escalation, ServiceReferral, Status
from hub.rights.jobs import apply_retention
from tests.conftest import NOW
from tests.factories import Factory
from tests.reports_support import add_client, add_trajectory, make_world

PERIOD = {"from": "2026-01-01", "to": "2026-06-30"}
D = date

# The hand-made history of tests/test_reports_registration.py, as a programme's spreadsheet has it
# (client reference, entered_on, outcome, outcome_on, gender, legal status, target groups).
HISTORY = [
    ("A-1", "2025-10-01", "dropped_out", "2026-02-10", "female", "resident", "trafficking_victim"),
    ("A-1", "2026-03-01", "dropped_out", "2026-04-01", "female", "resident", "trafficking_victim"),
    ("A-1", "2026-05-01", "", "", "female", "resident", "trafficking_victim"),
    ("B-2", "2026-02-01", "exited", "2026-05-01", "male", "no_residence", "man;undocumented"),
    ("C-3", "2025-05-01", "moved", "2026-08-01", "transgender", "self_employed_only", "transgender"),
    ("D-4", "2026-06-30", "", "", "female", "resident", ""),
    ("E-5", "2026-07-01", "", "", "female", "resident", ""),
    ("F-6", "2025-01-01", "exited", "2025-12-31", "female", "resident", ""),
    ("G-7", "2026-01-01", "other", "2026-01-01", "female", "resident", ""),
    ("H-8", "2025-06-01", "moved", "2026-06-30", "male", "resident", "man"),
]
HEADLINE = {"inflow": 5, "exited": 1, "dropped_out": 2, "moved": 1, "other": 1, "still_in_trajectory": 3,
            "unique_clients": 6}


def csv_file(columns, rows, delimiter=",", bom=False) -> bytes:
    def cell(value):
        text = str(value)
        return f'"{text}"' if delimiter in text or ";" in text else text

    lines = [delimiter.join(columns)] + [delimiter.join(cell(v) for v in row) for row in rows]
    return ("\ufeff" if bom else "").encode() + ("\r\n".join(lines) + "\r\n").encode()


def trajectory_rows(programme: int, history=HISTORY, birth_year=1990, municipality="Utrecht"):
    return [(programme, ref, entered, outcome, outcome_on, gender, birth_year, legal, groups, municipality)
            for ref, entered, outcome, outcome_on, gender, legal, groups in history]


def trajectories_file(programme: int, history=HISTORY, **kwargs) -> bytes:
    return csv_file(TRAJECTORY_COLUMNS, trajectory_rows(programme, history), **kwargs)


def referral_row(programme, ref, partner, requested, received="", intake="", started="", completed="",
                 rejected="", domain="finances"):
    return (programme, ref, partner, domain, requested, received, intake, started, completed, rejected)


def run(app, importer, raw: bytes) -> dict:
    with app.app_context():
        result = importer(raw, NOW)
        db.session.commit()
        return result


def refused(app, importer, raw: bytes) -> dict:
    with app.app_context():
        with pytest.raises(Invalid) as caught:
            importer(raw, NOW)
        db.session.rollback()
    return caught.value.fields


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def world(make, app):
    return make_world(make, app)


def registration(client, headers, programme, **query):
    response = client.get("/api/v1/reports/registration",
                          query_string={**PERIOD, "organisation_id": programme, **query}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- the reports count imported history as live work -----------------------------------------------

def test_imported_trajectories_count_in_the_registration_exactly_like_live_ones(app, make, client, api_login, world):
    result = run(app, import_trajectories, trajectories_file(world.programme))
    assert result == {"imported": 10, "closed": 0, "skipped_existing": 0, "clients_created": 8,
                      "clients_updated": 0, "rows": 10}
    imported = registration(client, api_login(world.coach), world.programme)
    assert {name: imported[name] for name in HEADLINE} == HEADLINE

    live = make_world(make, app, municipality="Zwolle")  # the same history, made as the hub makes it
    clients = {}
    for ref, entered, outcome, outcome_on, gender, legal, groups in HISTORY:
        if ref not in clients:
            clients[ref] = add_client(app, live, gender, legal, tuple(g for g in groups.split(";") if g))
        number = sum(1 for row in HISTORY[:HISTORY.index((ref, entered, outcome, outcome_on, gender, legal, groups))]
                     if row[0] == ref) + 1
        add_trajectory(app, live, clients[ref], D.fromisoformat(entered),
                       D.fromisoformat(outcome_on) if outcome_on else None, outcome or None, number=number)
    counted_live = registration(client, api_login(live.coach), live.programme)
    assert {**counted_live, "organisation_id": None} == {**imported, "organisation_id": None}


def test_a_re_entry_is_the_same_client_with_a_second_numbered_trajectory(app, world):
    run(app, import_trajectories, trajectories_file(world.programme))
    with app.app_context():
        mine = db.session.scalars(select(Trajectory).where(Trajectory.programme_id == world.programme,
                                                           Trajectory.imported_at.is_not(None))
                                  .order_by(Trajectory.opened_on)).all()
        a = [t for t in mine if t.client.alias == "A-1"]
        assert [t.number for t in a] == [1, 2, 3] and len({t.client_id for t in a}) == 1
        assert [t.previous_id for t in a] == [None, a[0].id, a[1].id]
        assert all(t.handoff_id is None and t.opened_by_id is None for t in mine)
        client = a[0].client
        assert (client.gender.value, client.birth_year, client.municipality_of_residence, client.target_groups,
                client.story_summary) == ("female", 1990, "Utrecht", ["trafficking_victim"], None)


def test_imported_service_referrals_count_in_the_waiting_times_and_bottlenecks(app, client, api_login, world):
    run(app, import_trajectories, trajectories_file(world.programme))
    partner = world.partners[0]
    rows = [referral_row(world.programme, "A-1", partner, "2026-06-01", "2026-06-02", "2026-06-05", "2026-06-11",
                         "2026-07-01"),  # waited 10 days
            referral_row(world.programme, "B-2", partner, "2026-06-01", started="2026-06-21"),  # 20 days
            referral_row(world.programme, "C-3", partner, "2026-06-01", "2026-06-03", started="2026-07-01"),  # 30
            referral_row(world.programme, "D-4", partner, "2026-06-01", started="2026-07-11"),  # 40
            referral_row(world.programme, "G-7", partner, "2026-06-01", "2026-06-04", rejected="2026-06-15"),
            referral_row(world.programme, "H-8", partner, "2026-11-13", "2026-11-16")]  # still waiting: 10 days
    result = run(app, import_service_referrals, csv_file(SERVICE_REFERRAL_COLUMNS, rows))
    assert result == {"imported": 6, "skipped_existing": 0, "open": 4, "rows": 6}  # three in progress, one waits
    headers = api_login(world.coach)
    response = client.get("/api/v1/reports/waiting-times", headers=headers,
                          query_string={"group_by": "organisation", "from": "2026-01-01", "to": "2026-11-23"})
    assert response.status_code == 200, response.get_json()
    [row] = [item for item in response.get_json()["items"] if item["organisation_id"] == partner]
    assert (row["count"], row["started"], row["median_days"], row["p90_days"]) == (6, 4, 25.0, 37.0)
    assert (row["open_waiting"], row["longest_current_waits"]) == (1, [10])  # H-8, since 13 November: whole days
    response = client.get("/api/v1/reports/bottlenecks", headers=headers,
                          query_string={"from": "2026-06-01", "to": "2026-06-30"})
    assert response.status_code == 200, response.get_json()
    [row] = [item for item in response.get_json()["items"] if item["organisation_id"] == partner]
    # June's days: A 10, B 20, C and D all 30 (they started in July), G 14 (rejected on the 15th)
    assert row["waiting_days"] == pytest.approx(10 + 20 + 30 + 30 + 14, abs=0.1)


def test_imported_referrals_carry_the_statuses_and_events_the_live_workflow_would(app, world):
    run(app, import_trajectories, trajectories_file(world.programme))
    partner = world.partners[0]
    run(app, import_service_referrals, csv_file(SERVICE_REFERRAL_COLUMNS, [
        referral_row(world.programme, "A-1", partner, "2026-03-30", "2026-03-31", "", "2026-04-02", "2026-05-01")]))
    with app.app_context():
        referral = db.session.scalar(select(ServiceReferral).where(ServiceReferral.imported_at.is_not(None)))
        assert referral.status == Status.COMPLETED and referral.consent_id is None and referral.requested_by_id is None
        # the start of each day in Dutch time: CET before the clocks moved on 29 March, CEST after
        assert referral.requested_at == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
        assert referral.started_at == datetime(2026, 4, 1, 22, 0, tzinfo=UTC)
        assert referral.closed_at == referral.status_since == datetime(2026, 4, 30, 22, 0, tzinfo=UTC)
        assert [(e.from_status, e.to_status) for e in referral.events] == [
            (None, Status.REQUESTED), (Status.REQUESTED, Status.RECEIVED), (Status.RECEIVED, Status.IN_PROGRESS),
            (Status.IN_PROGRESS, Status.COMPLETED)]
        assert referral.clock is None


def test_the_escalation_sweep_raises_nothing_for_imported_open_referrals(app, world):
    run(app, import_trajectories, trajectories_file(world.programme))
    partner = world.partners[0]
    run(app, import_service_referrals, csv_file(SERVICE_REFERRAL_COLUMNS, [
        referral_row(world.programme, "A-1", partner, "2025-01-06"),
        referral_row(world.programme, "B-2", partner, "2025-01-06", "2025-01-07"),
        referral_row(world.programme, "C-3", partner, "2025-01-06", intake="2025-02-01"),
        referral_row(world.programme, "D-4", partner, "2025-01-06", started="2025-02-01")]))
    with app.app_context():
        open_ones = db.session.scalars(select(ServiceReferral).where(ServiceReferral.imported_at.is_not(None))).all()
        assert len(open_ones) == 4 and all(r.is_open and r.clock is None for r in open_ones)
        escalate_overdue(NOW)
        assert db.session.scalar(select(func.count()).select_from(Escalation).where(
            Escalation.service_referral_id.in_([r.id for r in open_ones]))) == 0


# --- all or nothing, and idempotent ---------------------------------------------------------------

def test_importing_the_same_files_again_imports_nothing_new(app, world):
    partner = world.partners[0]
    referrals = csv_file(SERVICE_REFERRAL_COLUMNS, [
        referral_row(world.programme, "A-1", partner, "2026-03-02", started="2026-03-20", completed="2026-04-20"),
        referral_row(world.programme, "B-2", partner, "2026-03-02")])
    run(app, import_trajectories, trajectories_file(world.programme))
    run(app, import_service_referrals, referrals)
    before = count(app, Trajectory), count(app, ServiceReferral), count(app, Client)
    again = run(app, import_trajectories, trajectories_file(world.programme, delimiter=";", bom=True))
    assert (again["imported"], again["skipped_existing"], again["clients_created"]) == (0, 10, 0)
    assert run(app, import_service_referrals, referrals) == {"imported": 0, "skipped_existing": 2, "open": 0,
                                                             "rows": 2}
    assert (count(app, Trajectory), count(app, ServiceReferral), count(app, Client)) == before


def test_a_later_export_closes_what_was_open_and_adds_the_new_rows(app, world):
    run(app, import_trajectories, trajectories_file(world.programme))
    later = [row for row in HISTORY if row[0] != "A-1" or row[1] != "2026-05-01"] + [
        ("A-1", "2026-05-01", "exited", "2026-09-01", "female", "resident", "trafficking_victim"),
        ("A-1", "2026-10-01", "", "", "female", "self_employed_only", "trafficking_victim")]
    result = run(app, import_trajectories, trajectories_file(world.programme, later))
    assert (result["imported"], result["closed"], result["skipped_existing"], result["clients_updated"]) == (1, 1, 9, 1)
    with app.app_context():
        a = db.session.scalars(select(Trajectory).join(Client).where(
            Client.programme_id == world.programme, Trajectory.imported_at.is_not(None))
            .order_by(Trajectory.opened_on)).all()
        assert [(t.number, t.outcome and t.outcome.value) for t in a if t.client.alias == "A-1"][-2:] == [
            (3, "exited"), (4, None)]
        assert next(t.client for t in a if t.client.alias == "A-1").legal_status.value == "self_employed_only"


def test_a_changed_outcome_is_a_bad_row_not_a_silent_overwrite(app, world):
    run(app, import_trajectories, trajectories_file(world.programme))
    changed = [("B-2", "2026-02-01", "dropped_out", "2026-05-01", "male", "no_residence", "man")]
    fields = refused(app, import_trajectories, trajectories_file(world.programme, changed))
    assert fields == {"line 2": ["outcome: differs from the trajectory the hub has for this client entered on "
                                 "2026-02-01 (exited on 2026-05-01)"]}


def test_one_bad_row_among_good_ones_imports_nothing_and_names_its_line(app, world):
    rows = trajectory_rows(world.programme)
    rows[3] = (world.programme, "B-2", "2026-02-01", "exited", "", "male", 1990, "no_residence", "man", "Utrecht")
    before = count(app, Trajectory), count(app, Client), count(app, AuditEvent)
    fields = refused(app, import_trajectories, csv_file(TRAJECTORY_COLUMNS, rows))
    assert fields == {"line 5": ["outcome: an outcome and its date (outcome_on) go together"]}
    assert (count(app, Trajectory), count(app, Client), count(app, AuditEvent)) == before


def test_the_database_refuses_a_second_copy_of_an_imported_row(app, world):
    run(app, import_trajectories, trajectories_file(world.programme))
    with app.app_context():
        first = db.session.scalar(select(Trajectory).where(Trajectory.imported_at.is_not(None)))
        db.session.add(Trajectory(client_id=first.client_id, number=99, programme_id=first.programme_id,
                                  opened_on=first.opened_on, closed_on=first.opened_on, outcome="other",
                                  imported_at=NOW))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_only_imported_history_may_lack_a_handoff(app, world):
    with app.app_context():
        db.session.add(Trajectory(client_id=world.client_id, number=1, programme_id=world.programme,
                                  opened_on=D(2026, 1, 1)))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


# --- every rule ------------------------------------------------------------------------------------

GOOD = ("R-1", "2026-02-01", "exited", "2026-05-01", "female", 1990, "resident", "man;trafficking_victim", "Ede")


@pytest.mark.parametrize(("change", "reason"), [
    ({1: ""}, "client_ref: Missing data for required field."),
    ({2: "01-02-2026"}, "entered_on: Not a valid date."),
    ({2: "2026-12-01", 3: "", 4: ""}, "entered_on: lies in the future"),
    ({3: "graduated"}, "outcome: Must be one of: exited, dropped_out, moved, other."),
    ({4: ""}, "outcome: an outcome and its date (outcome_on) go together"),
    ({3: ""}, "outcome: an outcome and its date (outcome_on) go together"),
    ({4: "2026-01-31"}, "outcome_on: lies before entered_on"),
    ({4: "2026-11-24"}, "outcome_on: lies in the future"),
    ({5: "woman"}, "gender: Must be one of: female, male, transgender, nonbinary, unknown."),
    ({6: "1890"}, "birth_year: not plausible for someone entering in 2026: expected 1926-2014"),
    ({6: "2020"}, "birth_year: not plausible for someone entering in 2026: expected 1926-2014"),
    ({6: "negentig"}, "birth_year: Not a valid integer."),
    ({7: ""}, "legal_status: Missing data for required field."),
    ({7: "eu"}, "legal_status: Must be one of: resident, self_employed_only, no_residence."),
    ({8: "man;sailor"}, "target_groups: unknown target group sailor; use trafficking_victim, man, transgender, "
                        "minor, home_worker, undocumented separated by ';'"),
    ({9: "x" * 101}, "municipality: Longer than maximum length 100."),
])
def test_each_trajectory_rule_names_the_column_and_the_reason(app, world, change, reason):
    row = [world.programme, *GOOD]
    for index, value in change.items():
        row[index] = value
    assert refused(app, import_trajectories, csv_file(TRAJECTORY_COLUMNS, [row])) == {"line 2": [reason]}


def test_every_problem_of_a_row_is_named_at_once(app, world):
    row = (world.programme, "R-1", "2025-02-05", "exited", "", "female", 1891, "eu", "", "Arnhem")
    assert refused(app, import_trajectories, csv_file(TRAJECTORY_COLUMNS, [row])) == {"line 2": [
        "birth_year: not plausible for someone entering in 2025: expected 1925-2013",
        "legal_status: Must be one of: resident, self_employed_only, no_residence.",
        "outcome: an outcome and its date (outcome_on) go together"]}


def test_only_an_exit_programme_of_the_hub_takes_imported_trajectories(app, world):
    rows = [(999999, *GOOD), (world.partners[0], *GOOD)]
    assert refused(app, import_trajectories, csv_file(TRAJECTORY_COLUMNS, rows)) == {
        "line 2": ["programme_id: 999999 is not an exit programme in the hub"],
        "line 3": [f"programme_id: {world.partners[0]} is not an exit programme in the hub"]}


def test_a_client_has_one_trajectory_at_a_time_and_each_row_once(app, world):
    history = [("R-1", "2026-01-01", "", "", "female", "resident", ""),
               ("R-1", "2026-03-01", "exited", "2026-04-01", "female", "resident", ""),
               ("R-2", "2026-01-01", "exited", "2026-03-10", "female", "resident", ""),
               ("R-2", "2026-03-01", "exited", "2026-04-01", "female", "resident", ""),
               ("R-3", "2026-01-01", "exited", "2026-03-10", "female", "resident", ""),
               ("R-3", "2026-01-01", "exited", "2026-03-10", "female", "resident", "")]
    fields = refused(app, import_trajectories, trajectories_file(world.programme, history))
    assert fields == {
        "line 3": ["entered_on: overlaps the client's trajectory entered on 2026-01-01, which is still open; a client "
                   "has one trajectory at a time (a re-entry begins on or after the previous outcome_on)"],
        "line 5": ["entered_on: overlaps the client's trajectory entered on 2026-01-01, which ends on 2026-03-10; a "
                   "client has one trajectory at a time (a re-entry begins on or after the previous outcome_on)"],
        "line 7": ["the same trajectory as line 6 (programme_id, client_ref and entered_on)"]}


REFERRAL_RULES = [
    ({"received": "2026-02-28"}, "received_on: lies before requested_on"),
    ({"intake": "2026-03-05", "started": "2026-03-04"}, "started_on: lies before intake_on"),
    ({"completed": "2026-04-01"}, "completed_on: completed without started_on (help that never started cannot "
                                  "complete)"),
    ({"started": "2026-03-05", "completed": "2026-04-01", "rejected": "2026-04-01"},
     "rejected_on: a referral is completed or rejected, not both"),
    ({"started": "2026-03-05", "rejected": "2026-03-04"}, "rejected_on: lies before started_on"),
    ({"requested": "2026-3-1"}, "requested_on: Not a valid date."),
    ({"started": "2027-01-01"}, "started_on: lies in the future"),
    ({"domain": "money"}, "domain: Must be one of: housing, finances, social, mental_health, meaning, "
                          "physical_health, practical, work, legal."),
]


@pytest.mark.parametrize(("change", "reason"), REFERRAL_RULES)
def test_each_service_referral_rule_names_the_column_and_the_reason(app, world, change, reason):
    run(app, import_trajectories, trajectories_file(world.programme))
    row = referral_row(world.programme, "A-1", world.partners[0], **{"requested": "2026-03-01", **change})
    assert refused(app, import_service_referrals, csv_file(SERVICE_REFERRAL_COLUMNS, [row])) == {"line 2": [reason]}


def test_a_referral_goes_to_a_chain_partner_for_a_client_imported_before(app, world):
    run(app, import_trajectories, trajectories_file(world.programme))
    police = Factory(app).organisation("police")
    rows = [referral_row(world.programme, "A-1", police, "2026-03-01"),
            referral_row(world.programme, "Z-26", world.partners[0], "2026-03-01"),
            referral_row(world.partners[1], "A-1", world.partners[0], "2026-03-01"),
            referral_row(world.programme, "A-1", world.partners[0], "2026-03-01"),
            referral_row(world.programme, "A-1", world.partners[0], "2026-03-01")]
    assert refused(app, import_service_referrals, csv_file(SERVICE_REFERRAL_COLUMNS, rows)) == {
        "line 2": [f"partner_id: {police} is not a chain partner in the hub"],
        "line 3": [f"client_ref: no client with this reference was imported for programme {world.programme}; "
                   "import the trajectories file first"],
        "line 4": [f"programme_id: {world.partners[1]} is not an exit programme in the hub",
                   f"client_ref: no client with this reference was imported for programme {world.partners[1]}; "
                   "import the trajectories file first"],
        "line 6": ["the same referral as line 5 (programme_id, client_ref, partner_id, domain and requested_on)"]}


def test_the_same_reference_in_two_programmes_is_two_clients(app, make, world):
    other = make.organisation("exit_programme")
    run(app, import_trajectories, csv_file(TRAJECTORY_COLUMNS, [(world.programme, *GOOD), (other, *GOOD)]))
    with app.app_context():
        found = db.session.scalars(select(Client).where(Client.imported_at.is_not(None))).all()
        assert len(found) == 2 and found[0].import_ref_hash != found[1].import_ref_hash


# --- the file ---------------------------------------------------------------------------------------

def test_semicolons_and_a_byte_order_mark_as_dutch_excel_writes(app, world):
    raw = csv_file(TRAJECTORY_COLUMNS, [(world.programme, *GOOD)], delimiter=";", bom=True)
    assert raw.startswith(b"\xef\xbb\xbfprogramme_id;client_ref;") and b'"man;trafficking_victim"' in raw
    assert run(app, import_trajectories, raw)["imported"] == 1
    with app.app_context():
        client = db.session.scalar(select(Client).where(Client.imported_at.is_not(None)))
        assert client.target_groups == ["man", "trafficking_victim"]


def test_an_unquoted_field_with_the_delimiter_is_a_bad_row(app, world):
    raw = ";".join(TRAJECTORY_COLUMNS).encode() + b"\n" + \
        f"{world.programme};R-1;2026-02-01;;;female;1990;resident;man;minor;Ede\n".encode()
    assert refused(app, import_trajectories, raw) == {
        "line 2": ["expected 10 fields, found 11 (a field containing the delimiter must be quoted)"]}


@pytest.mark.parametrize(("raw", "field", "problem"), [
    (b"", "header", "programme_id, client_ref, entered_on"),
    (b"programme,client_ref\n1,2\n", "header", "found: programme, client_ref"),
    (",".join(TRAJECTORY_COLUMNS).encode() + b"\n1,R\xe9,2026-01-01,,,female,,resident,,\n", "file",
     "byte 115 is not UTF-8"),
])
def test_a_file_that_cannot_be_read_is_refused_whole(app, raw, field, problem):
    fields = refused(app, import_trajectories, raw)
    assert problem in fields[field][0]


# --- the command --------------------------------------------------------------------------------------

def hub_import(runner, kind: str, path: Path):
    return runner.invoke(args=["hub", "import", kind, str(path)])


def test_the_commands_print_json_and_a_bad_file_exits_2_naming_its_lines(app, runner, world, tmp_path):
    good = tmp_path / "trajecten.csv"
    good.write_bytes(trajectories_file(world.programme, delimiter=";", bom=True))
    result = hub_import(runner, "trajectories", good)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["imported"] == 10
    again = hub_import(runner, "trajectories", good)
    assert (again.exit_code, json.loads(again.stdout)["imported"], json.loads(again.stdout)["skipped_existing"]) == (
        0, 0, 10)

    referrals = tmp_path / "verwijzingen.csv"
    referrals.write_bytes(csv_file(SERVICE_REFERRAL_COLUMNS, [
        referral_row(world.programme, "A-1", world.partners[0], "2026-03-02", started="2026-03-12"),
        referral_row(world.programme, "A-1", world.partners[0], "2026-03-02", received="2026-03-01")]))
    result = hub_import(runner, "service-referrals", referrals)
    assert result.exit_code == 2
    assert "Nothing was imported: 1 bad row" in result.stderr
    assert "line 3: received_on: lies before requested_on" in result.stderr
    assert json.loads(result.stdout)["error"]["fields"] == {"line 3": ["received_on: lies before requested_on"]}
    assert count(app, ServiceReferral, ServiceReferral.imported_at.is_not(None)) == 0

    referrals.write_bytes(csv_file(SERVICE_REFERRAL_COLUMNS, [
        referral_row(world.programme, "A-1", world.partners[0], "2026-03-02", started="2026-03-12")]))
    result = hub_import(runner, "service-referrals", referrals)
    assert (result.exit_code, json.loads(result.stdout)["imported"]) == (0, 1)


def test_a_missing_file_is_a_usage_error(runner, tmp_path):
    result = hub_import(runner, "trajectories", tmp_path / "nowhere.csv")
    assert result.exit_code == 2 and "nowhere.csv" in result.output


def test_every_import_writes_one_audit_event_with_counts_and_no_client_data(app, world):
    run(app, import_trajectories, trajectories_file(world.programme))
    with app.app_context():
        [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.tag == "imports:trajectories:imported"))
        assert event.detail == ("imported=10, closed=0, skipped_existing=0, clients_created=8, clients_updated=0, "
                                "programmes=1")
        assert (event.object_type, event.object_id, event.client_id, event.user_id) == (
            "organisation", str(world.programme), None, None)


# --- imported clients in the rest of the hub ----------------------------------------------------------

def test_imported_history_stays_out_of_the_caseload_and_the_dossier_opens_once_consent_is_recorded(
        app, client, api_login, world):
    run(app, import_trajectories, trajectories_file(world.programme))
    headers = api_login(world.coach)
    caseload = client.get("/api/v1/caseload", headers=headers)
    assert caseload.status_code == 200 and caseload.get_json()["items"] == []
    with app.app_context():
        client_id = db.session.scalar(select(Client.id).where(Client.programme_id == world.programme,
                                                              Client.imported_at.is_not(None)).limit(1))
    assert client.get(f"/api/v1/clients/{client_id}", headers=headers).status_code == 404  # no consent in the hub
    consent = client.post(f"/api/v1/clients/{client_id}/consents", headers=headers, json={
        "recipient_organisation_id": world.programme, "purpose": "handoff", "scope": ["story", "contact"],
        "method": "written", "statement": "Toestemming voor het uitstapprogramma, opnieuw vastgelegd."})
    assert consent.status_code == 201, consent.get_json()
    dossier = client.get(f"/api/v1/clients/{client_id}", headers=headers)
    assert dossier.status_code == 200, dossier.get_json()
    trajectories = client.get(f"/api/v1/clients/{client_id}/trajectories", headers=headers)
    assert trajectories.status_code == 200, trajectories.get_json()
    assert all(t["handoff_id"] is None and t["imported_at"] for t in trajectories.get_json()["items"])
    export = client.get(f"/api/v1/clients/{client_id}/export", headers=headers)
    assert export.status_code == 200, export.get_json()
    assert export.get_json()["trajectories"]


def test_the_dossier_page_of_an_imported_client_renders(app, client, world):
    from tests.test_web_handoff import sign_in

    run(app, import_trajectories, trajectories_file(world.programme))
    with app.app_context():
        client_id = db.session.scalar(select(Client.id).join(Trajectory).where(
            Client.programme_id == world.programme, Trajectory.closed_on.is_(None)).limit(1))
    with app.test_request_context():
        from hub.auth.models import User
        from hub.consent.service import record_consent
        from hub.vocab import ConsentPurpose

        record_consent(db.session.get(User, world.coach.id), client_id=client_id,
                       recipient_organisation_id=world.programme, purpose=ConsentPurpose.HANDOFF,
                       scope=["story", "contact"], method="written", statement="Toestemming.", now=NOW)
        db.session.commit()
    sign_in(client, world.coach)
    page = client.get(f"/clients/{client_id}")
    assert page.status_code == 200


def test_retention_anonymises_old_imported_history_and_a_re_import_still_finds_it(app, world):
    old = [("OLD-1", "2019-01-01", "exited", "2020-01-01", "female", "resident", "")]
    run(app, import_trajectories, trajectories_file(world.programme, old))
    with app.app_context():
        apply_retention(NOW)
        db.session.commit()
        client = db.session.scalar(select(Client).where(Client.imported_at.is_not(None)))
        assert client.anonymised_at is not None and client.alias == "[anonymised]" and client.birth_year is None
    again = run(app, import_trajectories, trajectories_file(world.programme, old))
    assert (again["imported"], again["skipped_existing"], again["clients_created"]) == (0, 1, 0)


def test_the_database_file_does_not_contain_the_client_references(tmp_path):
    """A separate hub on its own SQLite file, so that everything is committed to disk."""
    app = create_app(Config(env="test", testing=True, instance_path=str(tmp_path),
                            database_url=f"sqlite:///{tmp_path}/imported.sqlite3"))
    with app.app_context():
        upgrade()
    make = Factory(app)
    programme, partner = make.organisation("exit_programme"), make.organisation("debt_relief")
    history = [("ZONNEBLOEM-4711", "2025-02-01", "exited", "2025-06-01", "female", "resident", ""),
               ("ZONNEBLOEM-4711", "2025-07-01", "", "", "female", "resident", "")]
    with app.app_context():
        import_trajectories(trajectories_file(programme, history), NOW)
        import_service_referrals(csv_file(SERVICE_REFERRAL_COLUMNS, [
            referral_row(programme, "ZONNEBLOEM-4711", partner, "2025-08-01", started="2025-08-20")]), NOW)
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Trajectory)) == 2
        db.engine.dispose()
    on_disk = b"".join(Path(path).read_bytes() for path in glob.glob(f"{tmp_path}/imported.sqlite3*"))
    assert b"ZONNEBLOEM" not in on_disk.upper()
    assert b"4711" not in on_disk


def test_after_a_key_rotation_and_reencrypt_a_re_import_still_finds_its_clients(app, world, monkeypatch):
    from hub.crypto import KeyRing, new_key
    from hub.sealed import reencrypt_all
    from tests.test_encryption import _encoded

    run(app, import_trajectories, trajectories_file(world.programme))
    newest = new_key()
    monkeypatch.setitem(app.extensions, "hub.keyring", KeyRing([newest, *_encoded(app)]))
    with app.app_context():
        assert reencrypt_all()["clients.import_ref_hash"] >= 8
    monkeypatch.setitem(app.extensions, "hub.keyring", KeyRing([newest]))  # the old key is gone now
    again = run(app, import_trajectories, trajectories_file(world.programme))
    assert (again["imported"], again["skipped_existing"], again["clients_created"]) == (0, 10, 0)
