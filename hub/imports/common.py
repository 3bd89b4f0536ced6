"""What both imports share: validating rows, collecting bad rows, finding programmes, partners and
clients, turning a date into the moment it began in the Netherlands, and the audit event."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from marshmallow import Schema, ValidationError
from sqlalchemy import select

from hub.audit.models import AuditAction
from hub.audit.service import record
from hub.crypto import key_ring
from hub.errors import Invalid
from hub.extensions import db
from hub.imports.schemas import reasons
from hub.partners.models import Organisation
from hub.referrals.models import Client
from hub.reports.period import AMSTERDAM
from hub.vocab import PARTNER_KINDS, OrganisationKind

MAX_LISTED = 200  # bad rows named in one answer; the count says how many more there are

@dataclass
class ValidRow:
    line: int
    data: dict


@dataclass
class Problems:
    """Bad rows by line number, each with its reasons."""

    lines: dict[int, list[str]] = field(default_factory=dict)

    def add(self, line: int, *reasons_: str) -> None:
        self.lines.setdefault(line, []).extend(reasons_)

    def raise_if_any(self, what: str) -> None:
        if not self.lines:
            return
        shown = sorted(self.lines)[:MAX_LISTED]
        fields = {f"line {line}": self.lines[line] for line in shown}
        more = len(self.lines) - len(shown)
        if more:
            fields["more"] = [f"{more} more bad rows not listed"]
        raise Invalid(f"Nothing was imported: {len(self.lines)} bad row{'s' if len(self.lines) != 1 else ''} in "
                      f"the {what} file. Correct them and import the whole file again.",
                      fields=fields, code="bad_rows")


def today_in_nl(now: datetime) -> date:
    return now.astimezone(AMSTERDAM).date()


def validated(rows: list[tuple[int, dict]], schema: Schema, problems: Problems) -> list[ValidRow]:
    """Each row through the schema; the bad ones go to `problems`."""
    good = []
    for line, raw in rows:
        if None in raw:
            problems.add(line, raw[None])
            continue
        try:
            good.append(ValidRow(line, schema.load(raw)))
        except ValidationError as error:
            problems.add(line, *reasons(error.messages))
    return good


def organisations_of_kinds(ids: set[int], kinds) -> dict[int, Organisation]:
    """The organisations among `ids` whose kind is one of `kinds`, by id (one query)."""
    if not ids:
        return {}
    return {o.id: o for o in db.session.scalars(select(Organisation).where(
        Organisation.id.in_(ids), Organisation.kind.in_([k.value for k in kinds])))}


def check_organisations(valid: list[ValidRow], problems: Problems, *, partners: bool) -> None:
    """Every row's programme_id an exit programme, and (`partners`) its partner_id a chain partner."""
    programmes = organisations_of_kinds({r.data["programme_id"] for r in valid}, {OrganisationKind.EXIT_PROGRAMME})
    chain = organisations_of_kinds({r.data["partner_id"] for r in valid}, PARTNER_KINDS) if partners else {}
    for row in valid:
        if row.data["programme_id"] not in programmes:
            problems.add(row.line, f"programme_id: {row.data['programme_id']} is not an exit programme in the hub")
        if partners and row.data["partner_id"] not in chain:
            problems.add(row.line, f"partner_id: {row.data['partner_id']} is not a chain partner in the hub")


def client_ref_hashes(programme_id: int, client_ref: str) -> list[str]:
    """The keyed hashes under which a programme's client reference is stored, the current one first.
    The programme is part of what is hashed: the same reference in two programmes links nobody."""
    return key_ring().lookup_hashes(client_ref, f"clients.import_ref:{programme_id}")


def clients_by_ref(refs: set[tuple[int, str]]) -> dict[tuple[int, str], Client]:
    """The clients already imported for (programme_id, client_ref), found by keyed hash, by any key
    of the ring (a key rotation does not make a re-import create the clients again)."""
    by_hash: dict[tuple[int, str], tuple[int, str]] = {}
    for programme_id, ref in refs:
        for hashed in client_ref_hashes(programme_id, ref):
            by_hash[(programme_id, hashed)] = (programme_id, ref)
    found: dict[tuple[int, str], Client] = {}
    programme_ids = {programme_id for programme_id, _ref in refs}
    hashes = [hashed for _programme, hashed in by_hash]
    for start in range(0, len(hashes), 500):
        for client in db.session.scalars(select(Client).where(
                Client.programme_id.in_(programme_ids), Client.import_ref_hash.in_(hashes[start:start + 500]))):
            key = by_hash.get((client.programme_id, client.import_ref_hash))
            if key is not None:
                found.setdefault(key, client)
    return found


def audit(tag: str, counts: dict, programme_ids: set[int]) -> None:
    """The import's one audit event: what was imported, in numbers, for which programmes; no client data."""
    detail = ", ".join(f"{name}={value}" for name, value in {**counts, "programmes": len(programme_ids)}.items())
    only = next(iter(programme_ids)) if len(programme_ids) == 1 else None
    record(tag, AuditAction.CREATE, object_type="organisation" if only else "import", object_id=only,
           ground="cli:import", detail=detail[:200])



def rehash_client_refs() -> int:
    """Move the keyed hashes of imported clients' references to the newest key (part of `hub
    reencrypt`), from the reference kept as their encrypted alias. An anonymised client's reference
    is gone: its hash stays under the key it was made with, found while that key is in the ring."""
    done = 0
    for client in db.session.scalars(select(Client).where(Client.import_ref_hash.is_not(None),
                                                          Client.anonymised_at.is_(None))):
        current = client_ref_hashes(client.programme_id, client.alias)[0]
        if client.import_ref_hash != current:
            client.import_ref_hash = current
            done += 1
    db.session.commit()
    return done
