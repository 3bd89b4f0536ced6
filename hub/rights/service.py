"""The rules of the client's rights: the legal hold, erasure on request, and anonymisation (what
erasure and retention both do). Plain functions taking the acting user; the routes only parse,
call and render, and the request's single commit makes each one atomic.

Who may exercise them: the coach of the client's own programme (`programme_client`), whatever the
consents say: these are the client's rights, which a withdrawn handoff consent does not end.
Nobody else, admins included: there is no break-glass.
"""
from __future__ import annotations

import logging
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import exists, func, select
from sqlalchemy.orm import selectinload

from hub.audit.models import AuditAction, AuditResult
from hub.audit.service import keep_even_if_refused, record
from hub.auth.models import User
from hub.clock import local_today
from hub.errors import Conflict, Invalid
from hub.extensions import db
from hub.referrals.models import Client, Goal, Handoff, Trajectory
from hub.referrals.service_referral_models import Message, ServiceReferral
from hub.referrals.trajectory import close_trajectory
from hub.rights import export, readlog
from hub.rights.models import ErasureRequest, ErasureStatus

# What an erased alias, sub-goal or message reads: the columns cannot be empty, and an empty string
# would look like a fault. Stored encrypted like any value.
log = logging.getLogger(__name__)

ANONYMISED = "[anonymised]"
REASON_MAX = 500
ERASURE_GROUND = "request:erasure"  # the audit ground of what the client's erasure request does


def _reason(value: str | None, field: str = "reason") -> str:
    text = (value or "").strip()
    if not text:
        raise Invalid(_("Say why."), fields={field: [_("Required.")]})
    if len(text) > REASON_MAX:
        raise Invalid(_("Keep the reason short."), fields={field: [_("At most %(n)s characters.", n=REASON_MAX)]})
    return text


def _lock(client: Client) -> None:
    """Take the client's row for this transaction: a hold, an erasure and the nightly job never
    interleave (the job skips rows it finds locked)."""
    db.session.scalar(select(Client.id).where(Client.id == client.id).with_for_update())
    db.session.refresh(client)


def has_open_trajectory(client_id: int) -> bool:
    return bool(db.session.scalar(select(exists().where(Trajectory.client_id == client_id,
                                                        Trajectory.closed_on.is_(None)))))


# --- the legal hold ------------------------------------------------------------------------------

def set_legal_hold(actor: User, client: Client, reason: str, now: datetime) -> Client:
    """Put the client's data under a legal hold (or restate its reason): nothing of it is erased,
    and its audit trail is not removed, until the hold is lifted."""
    reason = _reason(reason)
    _lock(client)
    first = client.legal_hold_since is None
    client.legal_hold_since = client.legal_hold_since or now
    client.legal_hold_reason = reason
    record("rights:legal_hold:set" if first else "rights:legal_hold:restated", AuditAction.UPDATE,
           object_type="client", object_id=client.id, client_id=client.id, user=actor)
    return client


def clear_legal_hold(actor: User, client: Client, now: datetime) -> list[ErasureRequest]:
    """Lift the legal hold; an erasure request it held is carried out at once (if the client has no
    open trajectory: else as soon as it closes, by the nightly job). Returns the requests carried out."""
    _lock(client)
    if client.legal_hold_since is None:
        raise Conflict(_("There is no legal hold on this client's data."), code="no_legal_hold")
    client.legal_hold_since, client.legal_hold_reason = None, None
    record("rights:legal_hold:cleared", AuditAction.UPDATE, object_type="client", object_id=client.id,
           client_id=client.id, user=actor)
    return carry_out_held_requests(client, now, actor)


# --- erasure -------------------------------------------------------------------------------------

def request_erasure(actor: User, client: Client, reason: str, now: datetime,
                    closing: dict | None = None) -> ErasureRequest:
    """Record the client's request to be erased and carry it out at once, unless a legal hold
    applies: then the request is kept (with the hold's reason, and `closing`) and Conflict
    `legal_hold` says why; lifting the hold carries it out (`carry_out_held_requests`).

    An open trajectory must be closed with its real outcome: that outcome counts in the uniform
    registration, and only the coach knows it (dropped out, moved, ...), so the hub never guesses
    `other`. `closing` (outcome, closed_on, and destination for an exit) closes it here, in the
    same transaction as the erasure and on the erasure's ground, so that a client who withdrew the
    handoff consent can still be forgotten; without it an open trajectory is refused (Conflict
    `trajectory_open`), unless a legal hold holds the request anyway. A closing that does not fit
    the trajectory is refused (Invalid): nothing is erased, closed or recorded."""
    reason = _reason(reason)
    _lock(client)
    if client.anonymised_at is not None:
        raise Conflict(_("This client's data was erased already, on %(date)s.",
                         date=local_today(client.anonymised_at).isoformat()), code="already_anonymised")
    erasure = ErasureRequest(client_id=client.id, requested_at=now, recorded_by_id=actor.id,
                             recorded_by_organisation_id=actor.organisation_id, status=ErasureStatus.CARRIED_OUT)
    erasure.reason = reason
    open_trajectories = _open_trajectories(client)
    if open_trajectories and closing is not None:
        _close_for_erasure(actor, open_trajectories, closing, now)  # checked now, even if the hold undoes it
        erasure.close_outcome, erasure.close_on = closing["outcome"], closing["closed_on"]
        erasure.close_destination = closing.get("destination")
    if client.legal_hold_since is not None:
        erasure.status = ErasureStatus.HELD
        erasure.legal_hold_reason = client.legal_hold_reason
        keep_even_if_refused(erasure)  # the answer is 409 and the request's work rolls back; the request stands
        record("rights:erasure:held", AuditAction.DELETE, AuditResult.REFUSED, object_type="client",
               object_id=client.id, client_id=client.id, user=actor, ground=ERASURE_GROUND,
               detail="legal_hold")
        raise Conflict(_("A legal hold applies, so the data cannot be erased now. Reason of the hold: %(reason)s. "
                         "The request is recorded and will be carried out when the hold is lifted.",
                         reason=client.legal_hold_reason),
                       code="legal_hold", fields={"legal_hold_reason": [client.legal_hold_reason]})
    if open_trajectories and closing is None:
        raise Conflict(_("The client's trajectory is still open. Say how it ended (for example dropped out) and "
                         "on which day, so that the figures stay right: it is then closed and the data erased "
                         "together."), code="trajectory_open")
    db.session.add(erasure)
    anonymise(client, now)
    erasure.carried_out_at = now
    db.session.flush()
    record("rights:erasure:carried_out", AuditAction.DELETE, object_type="client", object_id=client.id,
           client_id=client.id, user=actor, ground=ERASURE_GROUND)
    return erasure


def _open_trajectories(client: Client) -> list[Trajectory]:
    return db.session.scalars(select(Trajectory).where(Trajectory.client_id == client.id,
                                                       Trajectory.closed_on.is_(None)).with_for_update()).all()


def _close_for_erasure(actor: User, trajectories: list[Trajectory], closing: dict, now: datetime) -> None:
    for trajectory in trajectories:
        try:
            close_trajectory(actor, trajectory, ERASURE_GROUND, now, **closing)
        except Invalid as error:
            error.fields = {"close_trajectory": error.fields}  # where the request body has them
            raise


def carry_out_held_requests(client: Client, now: datetime, actor: User | None = None) -> list[ErasureRequest]:
    """Carry out the client's held erasure requests, if nothing stops them any more: no legal hold,
    and no open trajectory, or one that a request says how it ended (closed with that, by the coach
    who recorded the request). The caller holds the client's row (`_lock`, or the job's claim)."""
    held = db.session.scalars(select(ErasureRequest).where(ErasureRequest.client_id == client.id,
                                                           ErasureRequest.status == ErasureStatus.HELD)
                              .order_by(ErasureRequest.requested_at.desc())).all()
    if not held or client.legal_hold_since is not None:
        return []
    open_trajectories = _open_trajectories(client)
    if open_trajectories:
        said = next((request for request in held if request.close_outcome is not None), None)
        if said is None:
            return []  # the coach closes it first (its outcome counts); the nightly job then carries it out
        closing = {"outcome": said.close_outcome, "closed_on": said.close_on, "destination": said.close_destination}
        try:
            _close_for_erasure(db.session.get(User, said.recorded_by_id), open_trajectories, closing, now)
        except Invalid:  # the trajectory moved on since (a phase begun after that day): the coach decides
            log.warning("held erasure request %s: its closing no longer fits the open trajectory", said.id)
            return []
    if client.anonymised_at is None:
        anonymise(client, now)
        record("rights:erasure:carried_out", AuditAction.DELETE, object_type="client", object_id=client.id,
               client_id=client.id, user=actor, ground=ERASURE_GROUND, detail="held_request")
    for erasure in held:
        erasure.status, erasure.carried_out_at = ErasureStatus.CARRIED_OUT, now
    db.session.flush()
    return list(held)


# --- anonymisation -------------------------------------------------------------------------------

def anonymise(client: Client, now: datetime) -> None:
    """Erase what tells the client's story or identifies them; keep what the figures need.

    Erased: the alias (a fixed marker), the story summary and the notes per life domain, the safe-
    contact details, every free text of handoffs, trajectories, phases, goals, progress, sub-goals,
    service referrals and their events, message bodies; also birth year, languages and the
    municipalities, which together with gender and target groups would single a person out among
    the few hundred clients a year.
    Kept: every row with its dates, statuses and outcomes, gender, legal position, target groups and
    the scores, so that registration reports and waiting times do not change. Consents stay whole:
    they are the proof of what was agreed, and the database refuses to change them.
    """
    client.alias = ANONYMISED
    client.story_summary = None
    client.safe_contact = {}
    client.birth_year, client.languages = None, []
    client.municipality_of_residence = client.municipality_of_work = None
    client.anonymised_at = now
    for domain in client.story_domains:
        domain.notes = None
    for handoff in db.session.scalars(select(Handoff).where(Handoff.client_id == client.id)):
        handoff.safety_concerns = None
        handoff.decline_reason = None
    trajectories = db.session.scalars(
        select(Trajectory).where(Trajectory.client_id == client.id)
        .options(selectinload(Trajectory.phases), selectinload(Trajectory.goals).selectinload(Goal.progress),
                 selectinload(Trajectory.goals).selectinload(Goal.subgoals)))
    for trajectory in trajectories:
        trajectory.closing_note = None
        for period in trajectory.phases:
            period.note = None
        for goal in trajectory.goals:
            goal.description = None
            for entry in goal.progress:
                entry.note = None
            for subgoal in goal.subgoals:
                subgoal.text = ANONYMISED
    referrals = db.session.scalars(select(ServiceReferral).where(ServiceReferral.client_id == client.id)
                                   .options(selectinload(ServiceReferral.events))).all()
    for referral in referrals:
        referral.note = None
        for event in referral.events:
            event.note = None
    if referrals:
        for message in db.session.scalars(select(Message).where(
                Message.service_referral_id.in_([r.id for r in referrals]))):
            message.body = ANONYMISED
    db.session.flush()


# --- reading: the status, the read log, the export ------------------------------------------------

def status(actor: User, client: Client, *, audit: bool = True) -> dict:
    """What stands for the client's rights: erased or not, the legal hold, an open trajectory (which an
    erasure must close), the erasure requests.
    (`audit=False` where it only answers a write that is audited itself.)"""
    requests = db.session.scalars(select(ErasureRequest).where(ErasureRequest.client_id == client.id)
                                  .order_by(ErasureRequest.requested_at.desc(), ErasureRequest.id.desc())).all()
    if audit:
        record("rights:rights:read", AuditAction.READ, object_type="client", object_id=client.id,
               client_id=client.id, user=actor)
    open_since = db.session.scalar(select(func.min(Trajectory.opened_on)).where(Trajectory.client_id == client.id,
                                                                                Trajectory.closed_on.is_(None)))
    return {"client_id": client.id, "anonymised_at": client.anonymised_at,
            "legal_hold": client.legal_hold_since is not None, "legal_hold_since": client.legal_hold_since,
            "legal_hold_reason": client.legal_hold_reason, "open_trajectory_since": open_since,
            "erasure_requests": requests}


def read_log_page(actor: User, client: Client, page: int, per_page: int) -> dict:
    """A page of the client's read log, in words (producing it is itself in the log)."""
    record("rights:read_log:read", AuditAction.READ, object_type="client", object_id=client.id,
           client_id=client.id, user=actor, ground="request:read_log")
    return readlog.page(client.id, page, per_page)


def read_log_lines(actor: User, client: Client) -> list[readlog.Line]:
    """The whole read log for print, a line per day and kind of access."""
    record("rights:read_log:printed", AuditAction.EXPORT, object_type="client", object_id=client.id,
           client_id=client.id, user=actor, ground="request:read_log")
    db.session.flush()
    return readlog.by_day(client.id)


def export_data(actor: User, client: Client, now: datetime, form: str = "json") -> dict:
    """Everything the hub holds about the client, with the full read log: the access request."""
    record(f"rights:export:{form}", AuditAction.EXPORT, object_type="client", object_id=client.id,
           client_id=client.id, user=actor, ground="request:access")
    db.session.flush()
    data = {"generated_at": now.isoformat(), **export.build(client)}
    data["read_log"] = [entry.as_dict() for entry in readlog.describe(
        db.session.scalars(readlog.events_query(client.id)).all())]
    return data
