"""The warm handoff: submitted once by a referrer, taken up by the exit programme's coach; and
the loaders that decide who may see which client (by role, organisation and consent)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, select

from hub.audit.models import AuditAction, AuditResult
from hub.audit.service import record, success_event
from hub.auth.models import User
from hub.consent.service import Decision, checked_scope, decide, recorded_event, statement_hash
from hub.crypto import new_uid
from hub.errors import Conflict, Invalid, NotFound
from hub.extensions import db
from hub.notifications.service import N_, notify
from hub.referrals import handoff_writes
from hub.referrals.models import Client, Handoff, HandoffStatus, StoryDomain, Trajectory
from hub.vocab import ConsentMethod, ConsentPurpose, Role, Urgency


@dataclass(frozen=True)
class SubmittedHandoff:
    """What the referrer is told of a handoff just submitted."""

    id: int
    client_id: int
    programme_name: str
    status: HandoffStatus = HandoffStatus.SUBMITTED


def submit_handoff(actor: User, data: dict, now: datetime) -> SubmittedHandoff:
    """One transaction: a client, a consent, a story and a handoff, or nothing.

    Everything is checked, sealed and worded before the first row is written, so that the writing
    (and on SQLite the database's one write lock, hub/connections.py) lasts as short as it can. The rows
    are append-only and nothing in the request reads them back, so they are written without the ORM's
    unit of work, whose flush cost more CPU than everything else in the request (bench/profile.py):
    on SQLite one INSERT per table on the driver's cursor, on PostgreSQL one statement
    (`handoff_writes`). The writer also checks that the organisation is an exit programme and finds
    its coaches (on PostgreSQL inside that one statement), so that check comes last: a request with
    several faults hears of the programme once the rest is right."""
    person, story, given = data["client"], data["story"], data["consent"]
    if person.get("birth_year") and person["birth_year"] > now.year:
        raise Invalid(_("The birth year lies in the future."), fields={"client": {"birth_year": [_("Too late.")]}})
    programme_id = data["to_organisation_id"]
    valid_until = given.get("valid_until")
    scope = checked_scope(recipient_known=True, scope=given["scope"], statement=given["statement"], valid_from=now,
                          valid_until=valid_until)
    client = _client_row(person, story["summary"], data.get("safe_contact"), now)
    statement = given["statement"].strip()
    consent = {"method": ConsentMethod(given["method"]), "statement": statement,
               "statement_hash": statement_hash(statement), "purpose": ConsentPurpose.HANDOFF,
               "recorded_by_id": actor.id, "recorded_by_organisation_id": actor.organisation_id,
               "recorded_at": now, "valid_from": now, "valid_until": valid_until}
    domains = []
    for entry in story.get("domains", []):
        uid = new_uid()
        domains.append({"uid": uid, "domain": entry["domain"], "score": entry.get("score"), "wish": entry.get("wish"),
                        "notes": StoryDomain.notes.seal(uid, entry.get("notes")), "updated_at": now})
    handoff_uid = new_uid()
    handoff = {"uid": handoff_uid, "from_organisation_id": actor.organisation_id, "from_user_id": actor.id,
               "urgency": data["urgency"],
               "safety_concerns": Handoff.safety_concerns.seal(handoff_uid, data.get("safety_concerns")),
               "status": HandoffStatus.SUBMITTED, "submitted_at": now, "version": 1}
    subject = N_("Urgent: new handoff waiting") if data["urgency"] == Urgency.HIGH else N_("New handoff waiting")
    notice = (subject, N_("A new client was handed over to your programme. Open the intake queue in the hub."))
    consent_recorded = recorded_event(None, None, ConsentPurpose.HANDOFF, programme_id)
    written = handoff_writes.write(handoff_writes.HandoffRows(
        programme_id=programme_id, client=client, consent=consent, scope=scope, domains=domains, handoff=handoff,
        consent_recorded={**success_event(**consent_recorded, user=actor), "occurred_at": now},
        submitted={**success_event("referrals:handoff:submitted", AuditAction.CREATE, object_type="handoff",
                                   user=actor), "occurred_at": now},
        notice=notice, now=now))
    if written is None:
        raise Invalid(_("Hand clients over to an exit programme."),
                      fields={"to_organisation_id": [_("This is not an exit programme.")]})
    return SubmittedHandoff(written.handoff_id, written.client_id, written.programme_name)


def _coaches(programme_id: int) -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.organisation_id == programme_id, User.role == Role.COACH, User.active.is_(True))))


def _client_row(person: dict, summary: str, safe_contact: dict | None, now: datetime) -> dict:
    uid = new_uid()
    return {"uid": uid, "alias": Client.alias.seal(uid, person["alias"]),
            "gender": person["gender"], "birth_year": person.get("birth_year"),
            "languages": person.get("languages", []),
            "municipality_of_residence": person.get("municipality_of_residence"),
            "municipality_of_work": person.get("municipality_of_work"), "legal_status": person["legal_status"],
            "target_groups": sorted(set(person.get("target_groups", []))),
            "safe_contact": Client.seal_safe_contact(uid, safe_contact),
            "story_summary": Client.story_summary.seal(uid, summary), "created_at": now}


def handoff_for(user: User, handoff_id: int) -> Handoff:
    """The handoff if `user` may see it (its referrer organisation, or the receiving programme's
    coaches); NotFound otherwise, so that existence does not leak."""
    handoff = db.session.get(Handoff, handoff_id)
    visible = handoff is not None and (
        (user.role == Role.REFERRER and handoff.from_organisation_id == user.organisation_id)
        or (user.role == Role.COACH and handoff.to_organisation_id == user.organisation_id))
    if not visible:
        record("referrals:handoff:refused", AuditAction.READ, AuditResult.REFUSED, object_type="handoff",
               object_id=handoff_id, user=user)
        raise NotFound(_("There is no such handoff, or you may not see it."))
    return handoff


def handoffs_query(user: User, status: HandoffStatus | None = None) -> Select:
    """A referrer's own organisation's handoffs (newest first), or a programme's intake queue
    (most urgent, then oldest first)."""
    query = select(Handoff)
    if user.role == Role.REFERRER:
        query = query.where(Handoff.from_organisation_id == user.organisation_id).order_by(
            Handoff.submitted_at.desc(), Handoff.id.desc())
    else:
        urgency_rank = case({Urgency.HIGH.value: 0, Urgency.NORMAL.value: 1}, value=Handoff.urgency, else_=2)
        query = query.where(Handoff.to_organisation_id == user.organisation_id).order_by(
            urgency_rank, Handoff.submitted_at, Handoff.id)
    if status is not None:
        query = query.where(Handoff.status == status)
    return query


def accept_handoff(actor: User, handoff: Handoff, now: datetime, coach_id: int | None = None,
                   backup_coach_id: int | None = None) -> Handoff:
    """Take the client on: assign a coach (the actor unless named) and a backup coach."""
    _require_status(handoff, HandoffStatus.SUBMITTED)
    if not decide(handoff.to_organisation_id, handoff.client_id, ConsentPurpose.HANDOFF, None, now).allowed:
        raise Conflict(_("The client's consent for this handoff is no longer in force; it cannot be accepted."),
                       code="consent_required")
    coach_id = coach_id or actor.id
    problems = {}
    for field, user_id in (("coach_id", coach_id), ("backup_coach_id", backup_coach_id)):
        if user_id is not None and user_id not in {c.id for c in _coaches(handoff.to_organisation_id)}:
            problems[field] = [_("Choose an active coach of this programme.")]
    if backup_coach_id is not None and backup_coach_id == coach_id:
        problems["backup_coach_id"] = [_("The backup must be another coach.")]
    if problems:
        raise Invalid(_("The handoff could not be accepted."), fields=problems)
    handoff.status, handoff.accepted_at, handoff.accepted_by_id = HandoffStatus.ACCEPTED, now, actor.id
    handoff.coach_id, handoff.backup_coach_id = coach_id, backup_coach_id
    _tell_referrer(handoff, _l("Your handoff was accepted"),
                   _l("The exit programme accepted handoff %(id)s and assigned a coach.", id=handoff.id))
    record("referrals:handoff:accepted", AuditAction.UPDATE, object_type="handoff", object_id=handoff.id,
           client_id=handoff.client_id, user=actor)
    from hub.referrals.trajectory import open_on_acceptance  # here: that module builds on this one

    open_on_acceptance(actor, handoff, now)
    return handoff


def decline_handoff(actor: User, handoff: Handoff, reason: str, now: datetime) -> Handoff:
    _require_status(handoff, HandoffStatus.SUBMITTED)
    if not reason.strip():
        raise Invalid(_("Say why the handoff is declined."), fields={"reason": [_("Required.")]})
    handoff.status, handoff.declined_at, handoff.decline_reason = HandoffStatus.DECLINED, now, reason.strip()
    # the reason may speak of the client: it stays in the hub (the referrer's status view), never in e-mail
    _tell_referrer(handoff, _l("Your handoff was declined"),
                   _l("The exit programme declined handoff %(id)s. The reason is in the hub.", id=handoff.id))
    record("referrals:handoff:declined", AuditAction.UPDATE, object_type="handoff", object_id=handoff.id,
           client_id=handoff.client_id, user=actor)
    return handoff


def record_first_contact(actor: User, handoff: Handoff, on: datetime, now: datetime) -> Handoff:
    _require_status(handoff, HandoffStatus.ACCEPTED)
    if on > now:
        raise Invalid(_("First contact cannot lie in the future."), fields={"on": [_("In the future.")]})
    if on < handoff.submitted_at:
        raise Invalid(_("First contact cannot lie before the handoff."), fields={"on": [_("Too early.")]})
    handoff.status, handoff.first_contact_on = HandoffStatus.FIRST_CONTACT, on
    _tell_referrer(handoff, _l("First contact made"),
                   _l("The coach has had first contact with the client of handoff %(id)s.", id=handoff.id))
    record("referrals:handoff:first_contact", AuditAction.UPDATE, object_type="handoff", object_id=handoff.id,
           client_id=handoff.client_id, user=actor)
    return handoff


def _require_status(handoff: Handoff, expected: HandoffStatus) -> None:
    if handoff.status != expected:
        raise Conflict(_("This handoff is %(status)s; that is not possible now.", status=handoff.status.value),
                       code="invalid_transition")


def _tell_referrer(handoff: Handoff, subject: str, body: str) -> None:
    referrer = db.session.get(User, handoff.from_user_id)
    if referrer is not None and referrer.active:
        notify(referrer, subject, body)


# --- who may see a client ---------------------------------------------------------------------

def programme_client(user: User, client_id: int) -> Client:
    """A client of the coach's own programme, whatever the consents say (for managing the consents
    themselves); NotFound otherwise, and the refusal is audited."""
    client = db.session.get(Client, client_id)
    if client is None or user.role != Role.COACH or client.programme_id != user.organisation_id:
        _refuse_client(user, client_id, "not_programme_client")
    return client


def client_for_coach(user: User, client_id: int, at: datetime) -> tuple[Client, Decision]:
    """The client, if `user` is a coach of the client's programme and the client's handoff consent
    to that programme is in force; NotFound otherwise (and the refusal is audited)."""
    client = programme_client(user, client_id)
    decision = decide(user.organisation_id, client.id, ConsentPurpose.HANDOFF, None, at)
    if not decision.allowed:
        _refuse_client(user, client_id, decision.reason)
    return client, decision


def _refuse_client(user: User, client_id: int, reason: str):
    exists = db.session.get(Client, client_id) is not None
    record("referrals:client:refused", AuditAction.READ, AuditResult.REFUSED, object_type="client",
           object_id=client_id, client_id=client_id if exists else None, user=user, detail=reason)
    raise NotFound(_("There is no such client, or you may not see this client."))


def dossier(user: User, client: Client, at: datetime) -> dict:
    """What the coach's programme may see of the client, part by part, each part by consent.
    Reading it writes one audit event per consent relied on."""
    items = ["story", "contact", *(d.domain.value for d in client.story_domains)]
    decisions = {item: decide(user.organisation_id, client.id, ConsentPurpose.HANDOFF, item, at) for item in items}
    story, contact = decisions["story"], decisions["contact"]
    domains = [d for d in client.story_domains if decisions[d.domain.value].allowed]
    grounds = {d.ground for d in decisions.values() if d.allowed}
    handoff = db.session.scalar(select(Handoff).where(Handoff.client_id == client.id)
                                .order_by(Handoff.submitted_at.desc()).limit(1))
    result = {
        "id": client.id, "alias": client.alias, "gender": client.gender, "birth_year": client.birth_year,
        "languages": client.languages, "municipality_of_residence": client.municipality_of_residence,
        "municipality_of_work": client.municipality_of_work, "legal_status": client.legal_status,
        "target_groups": client.target_groups, "programme_id": client.programme_id,
        "safe_contact": client.safe_contact if contact.allowed else None,
        "story": {"summary": client.story_summary if story.allowed else None,
                  "domains": [{"domain": d.domain, "score": d.score, "wish": d.wish, "notes": d.notes}
                              for d in domains]},
        "handoff": handoff,
        "trajectories": db.session.scalars(select(Trajectory).where(Trajectory.client_id == client.id)
                                           .order_by(Trajectory.number.desc())).all(),
        "withheld": sorted(item for item, decision in decisions.items() if not decision.allowed),
    }
    for ground in sorted(grounds) or [None]:
        record("referrals:dossier:read", AuditAction.READ, object_type="client", object_id=client.id,
               client_id=client.id, user=user, ground=ground)
    return result


def consent_for_coach(user: User, consent_id: int):
    """A consent of a client of the coach's programme; NotFound otherwise. The programme manages
    its clients' consents even after a withdrawal of the handoff consent itself."""
    from hub.consent.models import Consent

    consent = db.session.get(Consent, consent_id)
    client = db.session.get(Client, consent.client_id) if consent else None
    if client is None or user.role != Role.COACH or client.programme_id != user.organisation_id:
        record("consent:consent:refused", AuditAction.UPDATE, AuditResult.REFUSED, object_type="consent",
               object_id=consent_id, user=user)
        raise NotFound(_("There is no such consent, or you may not manage it."))
    return consent


def client_coaches(client_id: int) -> list[User]:
    """The client's coach and backup coach (from the accepted handoff)."""
    handoff = db.session.scalar(select(Handoff).where(Handoff.client_id == client_id, Handoff.coach_id.is_not(None))
                                .order_by(Handoff.accepted_at.desc()).limit(1))
    if handoff is None:
        return []
    ids = [i for i in (handoff.coach_id, handoff.backup_coach_id) if i]
    return list(db.session.scalars(select(User).where(User.id.in_(ids), User.active.is_(True))))
