"""`hub import trajectories`: a programme's history of trajectories, one row per trajectory.

Natural key: programme + client_ref + entered_on (the unique index `uq_trajectories_imported` over
client and opened_on; the client stands for programme + client_ref). Rows of the same programme and
client_ref are the same client: a second row is a re-entry. The client's profile (gender, birth
year, legal position, target groups, municipality of residence) is taken from the row entered
last, as the hub keeps a client's profile as recorded now.

A row already imported is skipped; one imported while still open that now has an outcome closes it
(programmes export their spreadsheet again later); any other difference is a bad row, since the
hub cannot tell which of the two is right.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import select

from hub.extensions import db
from hub.imports.common import (
    Problems,
    ValidRow,
    audit,
    check_organisations,
    client_ref_hashes,
    clients_by_ref,
    today_in_nl,
    validated,
)
from hub.imports.csvfile import read_rows
from hub.imports.schemas import TRAJECTORY_COLUMNS, TrajectoryRowSchema
from hub.referrals.models import Client, Trajectory


def _key(row: ValidRow) -> tuple[int, str]:
    return row.data["programme_id"], row.data["client_ref"]


class _Span:
    """A trajectory on a client's timeline: an existing one (with its imported row, if any) or a new row."""

    def __init__(self, opened_on: date, closed_on: date | None, line: int | None):
        self.opened_on, self.closed_on, self.line = opened_on, closed_on, line


def _check_timeline(spans: list[_Span], problems: Problems) -> None:
    """One trajectory at a time: each ends (with an outcome) on or before the next one begins."""
    spans.sort(key=lambda span: span.opened_on)
    for before, after in zip(spans, spans[1:], strict=False):
        if before.closed_on is None or before.closed_on > after.opened_on:
            line = after.line if after.line is not None else before.line
            if line is None:
                continue  # both in the hub already: not this file's doing
            end = "is still open" if before.closed_on is None else f"ends on {before.closed_on}"
            problems.add(line, f"entered_on: overlaps the client's trajectory entered on {before.opened_on}, which "
                               f"{end}; a client has one trajectory at a time (a re-entry begins on or after the "
                               "previous outcome_on)")


def _plan(valid: list[ValidRow], clients: dict, problems: Problems
          ) -> tuple[list[ValidRow], list[tuple], int, dict[int, dict[date, Trajectory]]]:
    """Which rows are new, which close a trajectory imported while open, how many are there already;
    and the clients' trajectories in the hub, by client and opened_on."""
    existing: dict[int, dict[date, Trajectory]] = defaultdict(dict)
    client_ids = [client.id for client in clients.values()]
    for start in range(0, len(client_ids), 500):
        for trajectory in db.session.scalars(select(Trajectory).where(Trajectory.client_id.in_(
                client_ids[start:start + 500]))):
            existing[trajectory.client_id][trajectory.opened_on] = trajectory
    first_line: dict[tuple, int] = {}
    new, closing, skipped = [], [], 0
    by_client: dict[tuple[int, str], list[ValidRow]] = defaultdict(list)
    for row in valid:
        key = (*_key(row), row.data["entered_on"])
        if key in first_line:
            problems.add(row.line, f"the same trajectory as line {first_line[key]} (programme_id, client_ref and "
                                   "entered_on)")
            continue
        first_line[key] = row.line
        by_client[_key(row)].append(row)
    for client_key, rows in by_client.items():
        client = clients.get(client_key)
        known = existing[client.id] if client else {}
        spans = {opened_on: _Span(opened_on, t.closed_on, None) for opened_on, t in known.items()}
        for row in rows:
            data, trajectory = row.data, known.get(row.data["entered_on"])
            if trajectory is None:
                new.append(row)
                spans[data["entered_on"]] = _Span(data["entered_on"], data["outcome_on"], row.line)
            elif (trajectory.outcome, trajectory.closed_on) == (data["outcome"], data["outcome_on"]):
                skipped += 1
            elif trajectory.closed_on is None and trajectory.imported_at is not None:
                closing.append((row, trajectory))
                spans[data["entered_on"]] = _Span(data["entered_on"], data["outcome_on"], row.line)
            else:
                was = (f"{trajectory.outcome.value} on {trajectory.closed_on}" if trajectory.closed_on
                       else "still open")
                problems.add(row.line, f"outcome: differs from the trajectory the hub has for this client entered on "
                                       f"{data['entered_on']} ({was})")
        _check_timeline(list(spans.values()), problems)
    return new, closing, skipped, existing


def _profile(client: Client, data: dict) -> None:
    client.gender, client.birth_year, client.legal_status = data["gender"], data["birth_year"], data["legal_status"]
    client.target_groups, client.municipality_of_residence = data["target_groups"], data["municipality"]


def import_trajectories(raw: bytes, now: datetime) -> dict:
    """Import a trajectories file, all or nothing; returns the counts."""
    problems = Problems()
    valid = validated(read_rows(raw, TRAJECTORY_COLUMNS), TrajectoryRowSchema(today_in_nl(now)), problems)
    check_organisations(valid, problems, partners=False)
    clients = clients_by_ref({_key(row) for row in valid})
    new, closing, skipped, existing = _plan(valid, clients, problems)
    problems.raise_if_any("trajectories")

    created = updated = 0
    latest: dict[tuple[int, str], ValidRow] = {}
    for row in new:
        if _key(row) not in latest or row.data["entered_on"] > latest[_key(row)].data["entered_on"]:
            latest[_key(row)] = row
    for client_key, row in latest.items():
        client = clients.get(client_key)
        if client is None:
            programme_id, ref = client_key
            client = Client(programme_id=programme_id, import_ref_hash=client_ref_hashes(programme_id, ref)[0],
                            imported_at=now, created_at=now, languages=[])
            client.alias = ref  # the programme's own pseudonymous reference, encrypted like every alias
            _profile(client, row.data)
            db.session.add(client)
            clients[client_key] = client
            created += 1
        elif client.anonymised_at is None and row.data["entered_on"] >= max(existing[client.id], default=date.min):
            _profile(client, row.data)
            updated += db.session.is_modified(client)
    db.session.flush()

    numbers = {client.id: max((t.number for t in existing.get(client.id, {}).values()), default=0)
               for client in (clients[_key(row)] for row in new)}
    for row in sorted(new, key=lambda r: r.data["entered_on"]):
        client, data = clients[_key(row)], row.data
        numbers[client.id] += 1
        db.session.add(Trajectory(client_id=client.id, number=numbers[client.id], programme_id=client.programme_id,
                                  opened_on=data["entered_on"], opened_at=now, imported_at=now,
                                  closed_on=data["outcome_on"], closed_at=now if data["outcome_on"] else None,
                                  outcome=data["outcome"]))
    for row, trajectory in closing:
        trajectory.outcome, trajectory.closed_on, trajectory.closed_at = (row.data["outcome"], row.data["outcome_on"],
                                                                          now)
    db.session.flush()
    _link_previous({clients[_key(row)].id for row in new})
    counts = {"imported": len(new), "closed": len(closing), "skipped_existing": skipped,
              "clients_created": created, "clients_updated": updated}
    audit("imports:trajectories:imported", counts, {row.data["programme_id"] for row in valid})
    return {**counts, "rows": len(valid)}


def _link_previous(client_ids: set[int]) -> None:
    """Each trajectory of these clients points to the one before it in time (a re-entry's predecessor)."""
    ids = sorted(client_ids)
    for start in range(0, len(ids), 500):
        timeline: dict[int, list[Trajectory]] = defaultdict(list)
        for trajectory in db.session.scalars(select(Trajectory).where(Trajectory.client_id.in_(ids[start:start + 500]))
                                             .order_by(Trajectory.client_id, Trajectory.opened_on, Trajectory.id)):
            timeline[trajectory.client_id].append(trajectory)
        for trajectories in timeline.values():
            for before, after in zip(trajectories, trajectories[1:], strict=False):
                if after.previous_id != before.id:
                    after.previous_id = before.id
    db.session.flush()
