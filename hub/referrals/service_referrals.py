"""Referring on: the coach sends a client to a partner for one life domain, within consent; the
partner reports progress; both talk in a thread. Plain functions: actor and time passed in."""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError

from hub.audit.models import AuditAction, AuditResult
from hub.audit.service import record
from hub.auth.models import User
from hub.clock import utcnow
from hub.consent.service import decide
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.extensions import db
from hub.notifications.service import notify
from hub.partners.models import Organisation
from hub.partners.service import contact_users
from hub.referrals.escalation import is_stalled
from hub.referrals.service import client_coaches, client_for_coach
from hub.referrals.service_referral_models import (
    Escalation,
    EscalationState,
    HoldReason,
    Message,
    RejectReason,
    ServiceReferral,
    ServiceReferralEvent,
    SlaClock,
    Status,
)
from hub.referrals.workflow import OPEN, TERMINAL, allowed_targets
from hub.vocab import PARTNER_KINDS, PROFILE, ConsentPurpose, LifeDomain, Role

# --- sending ---------------------------------------------------------------------------------


def refer(actor: User, client_id: int, organisation_id: int, domain: LifeDomain, note: str | None,
          now: datetime, urgent: bool = False) -> ServiceReferral:
    """Refer the client to a partner for one life domain; 403 consent_required without consent."""
    client, _decision = client_for_coach(actor, client_id, now)
    partner = db.session.get(Organisation, organisation_id)
    if partner is None or partner.kind not in PARTNER_KINDS:
        raise Invalid(_("Refer to a chain partner."), fields={"organisation_id": [_("This is not a chain partner.")]})
    if domain not in partner.domains:
        raise Invalid(_("%(name)s does not help with this life domain.", name=partner.name),
                      fields={"domain": [_("Not served by this partner.")]})
    consent = decide(partner.id, client.id, ConsentPurpose.SERVICE_REFERRAL, domain.value, now)
    if not consent.allowed:
        record("referrals:service_referral:consent_required", AuditAction.CREATE, AuditResult.REFUSED,
               object_type="client", object_id=client.id, client_id=client.id, user=actor, detail=consent.reason)
        raise Forbidden(_("The client has not consented to share this life domain with %(name)s for a referral. "
                          "Record the client's consent first.", name=partner.name), code="consent_required")
    duplicate = open_duplicate(client.id, partner.id, domain)
    if duplicate is not None:
        raise _duplicate(partner, duplicate)
    referral = ServiceReferral(client_id=client.id, programme_id=client.programme_id, organisation_id=partner.id,
                               domain=domain, consent_id=consent.consent_id, requested_by_id=actor.id,
                               requested_at=now, status=Status.REQUESTED, status_since=now, urgent=urgent)
    referral.clock = SlaClock.started(referral, Status.REQUESTED, now)
    referral.note = note
    referral.events.append(ServiceReferralEvent(
        to_status=Status.REQUESTED, occurred_at=now, recorded_at=now, recorded_by_id=actor.id,
        recorded_by_organisation_id=actor.organisation_id))
    try:
        with db.session.begin_nested():  # a refusal leaves the request's transaction usable
            db.session.add(referral)
            db.session.flush()
    except IntegrityError as error:
        # Another request referred the client to this partner for this domain after our look above,
        # and its clock holds the key (uq_sla_clocks_open_referral).
        if "sla_clocks" not in str(error.orig):
            raise
        raise _duplicate(partner, open_duplicate(client.id, partner.id, domain)) from None
    record("referrals:service_referral:requested", AuditAction.CREATE, object_type="service_referral",
           object_id=referral.id, client_id=client.id, user=actor, ground=consent.ground)
    for user in contact_users(partner.id):
        notify(user, _l("New referral"), _l("You have a new referral in the hub."))
    return referral


def open_duplicate(client_id: int, partner_id: int, domain: LifeDomain) -> int | None:
    """The client's open referral to this partner for this domain, if there is one (the hub allows one)."""
    return db.session.scalar(select(ServiceReferral.id).where(
        ServiceReferral.client_id == client_id, ServiceReferral.organisation_id == partner_id,
        ServiceReferral.domain == domain, ServiceReferral.status.in_(OPEN)))


def _duplicate(partner: Organisation, referral_id: int | None) -> Conflict:
    return Conflict(_("This client already has an open referral to %(name)s for this life domain (%(id)s).",
                      name=partner.name, id=referral_id or "?"), code="duplicate_referral")


# --- who may see what --------------------------------------------------------------------------

def referral_for(user: User, referral_id: int, now: datetime | None = None) -> ServiceReferral:
    """The referral if the user's organisation is its partner, or its referring programme while
    the client's handoff consent to that programme holds (coach); NotFound otherwise, so that
    existence does not leak. (What a partner may see of the client is decided in `detail`.)"""
    referral = db.session.get(ServiceReferral, referral_id)
    visible = referral is not None and (
        (user.role == Role.PARTNER and referral.organisation_id == user.organisation_id)
        or (user.role == Role.COACH and referral.programme_id == user.organisation_id))
    if not visible:
        record("referrals:service_referral:refused", AuditAction.READ, AuditResult.REFUSED,
               object_type="service_referral", object_id=referral_id, user=user)
        raise NotFound(_("There is no such referral, or you may not see it."))
    if user.role == Role.COACH:
        client_for_coach(user, referral.client_id, now or utcnow())  # raises NotFound without consent
    return referral


def referrals_query(user: User, status: Status | None = None, organisation_id: int | None = None,
                    client_id: int | None = None, open_only: bool = False) -> Select:
    """A partner's inbox (its organisation's referrals) or a programme's overview, newest first."""
    own = (ServiceReferral.organisation_id if user.role == Role.PARTNER else ServiceReferral.programme_id)
    query = select(ServiceReferral).where(own == user.organisation_id)
    if status is not None:
        query = query.where(ServiceReferral.status == status)
    if open_only:
        query = query.where(ServiceReferral.status.in_(OPEN))
    if organisation_id is not None:
        query = query.where(ServiceReferral.organisation_id == organisation_id)
    if client_id is not None:
        query = query.where(ServiceReferral.client_id == client_id)
    return query.order_by(ServiceReferral.requested_at.desc(), ServiceReferral.id.desc())


def open_referrals_by_client(user: User, client_ids: list[int], now: datetime) -> dict[int, list[dict]]:
    """The open referrals of these clients that `user` may see, as summaries with the late marker
    (`is_stalled`), per client id, oldest request first: one query however many clients (the partner
    comes joined, `ServiceReferral.organisation`)."""
    if not client_ids:
        return {}
    query = (referrals_query(user, open_only=True).where(ServiceReferral.client_id.in_(client_ids))
             .order_by(None)
             .order_by(ServiceReferral.requested_at, ServiceReferral.id))
    by_client: dict[int, list[dict]] = {}
    for referral in db.session.scalars(query):
        by_client.setdefault(referral.client_id, []).append(summary(referral, now))
    return by_client


def days_waiting(referral: ServiceReferral, now: datetime) -> int:
    """Days from the request until the help started (in_progress), or until now."""
    return ((referral.started_at or referral.closed_at or now) - referral.requested_at).days


def days_in_status(referral: ServiceReferral, now: datetime) -> int:
    return ((referral.closed_at or now) - referral.status_since).days


def summary(referral: ServiceReferral, now: datetime) -> dict:
    """The referral's own facts, the same for both sides (no client data)."""
    return {
        "id": referral.id, "client_id": referral.client_id, "organisation_id": referral.organisation_id,
        "organisation_name": referral.organisation.name, "programme_id": referral.programme_id,
        "domain": referral.domain, "status": referral.status, "status_since": referral.status_since,
        "hold_reason": referral.hold_reason, "reject_reason": referral.reject_reason,
        "requested_at": referral.requested_at, "started_at": referral.started_at, "closed_at": referral.closed_at,
        "days_waiting": days_waiting(referral, now), "days_in_status": days_in_status(referral, now),
        "urgent": referral.urgent, "late": is_stalled(referral, now),
    }


def detail(user: User, referral: ServiceReferral, now: datetime) -> dict:
    """The referral as `user` may see it. The partner sees only what the client consented to share
    with it for referrals (checked now, not when it was sent); the coach sees the whole referral."""
    result = summary(referral, now)
    if user.role == Role.COACH:
        record("referrals:service_referral:read", AuditAction.READ, object_type="service_referral",
               object_id=referral.id, client_id=referral.client_id, user=user)
        shared = True
    else:
        result["client"] = partner_client_view(user, referral, now)
        shared = result["client"] is not None  # notes are about the client: not without consent
    result["note"] = referral.note if shared else None
    result["events"] = [{"from_status": e.from_status, "to_status": e.to_status, "reason": e.reason,
                         "occurred_at": e.occurred_at, "recorded_at": e.recorded_at,
                         "note": e.note if shared else None} for e in referral.events]
    return result


def partner_client_view(user: User, referral: ServiceReferral, now: datetime) -> dict | None:
    """The part of the client's story the partner may see, item by item; audited with its grounds.
    Any referral consent in force shows the alias and the safe-contact rules (never call, no letters
    home: they protect the client); the profile, story, contact details and each life domain only
    when the consent's scope holds them."""
    client = referral.client

    def may(item: str | None):
        return decide(user.organisation_id, client.id, ConsentPurpose.SERVICE_REFERRAL, item, now)

    in_force = may(None)
    if not in_force.allowed:
        record("referrals:client:refused", AuditAction.READ, AuditResult.REFUSED, object_type="client",
               object_id=client.id, client_id=client.id, user=user, detail=in_force.reason)
        return None
    story, contact, profile = may("story"), may("contact"), may(PROFILE)
    domain_decisions = {d: may(d.domain.value) for d in client.story_domains}
    safe = client.safe_contact
    shown = profile.allowed  # gender, birth year, languages, legal position: only with `profile`
    view = {
        "alias": client.alias, "profile_shared": shown,
        "gender": client.gender if shown else None, "birth_year": client.birth_year if shown else None,
        "languages": client.languages if shown else None, "legal_status": client.legal_status if shown else None,
        "safe_contact_rules": {"never_call": bool(safe.get("never_call")),
                               "no_letters_home": bool(safe.get("no_letters_home"))},
        "safe_contact": ({k: safe.get(k) for k in ("channel", "times", "code_word")} if contact.allowed else None),
        "story_summary": client.story_summary if story.allowed else None,
        "domains": [{"domain": d.domain, "score": d.score, "wish": d.wish, "notes": d.notes}
                    for d, decision in domain_decisions.items() if decision.allowed],
    }
    grounds = {d.ground for d in (in_force, story, contact, profile, *domain_decisions.values()) if d.allowed}
    for ground in sorted(grounds):
        record("referrals:client:read", AuditAction.READ, object_type="service_referral", object_id=referral.id,
               client_id=client.id, user=user, ground=ground)
    return view


# --- status events -------------------------------------------------------------------------------

def record_event(actor: User, referral: ServiceReferral, status: Status, now: datetime,
                 occurred_at: datetime | None = None, note: str | None = None, reason: str | None = None
                 ) -> ServiceReferralEvent:
    """Move the referral to `status` as `actor`; 409 when the transition is not allowed for the role."""
    occurred_at = occurred_at or now
    if status not in allowed_targets(referral.status, referral.held_from, actor.role):
        raise Conflict(_("A %(role)s cannot move a referral from %(current)s to %(status)s.",
                         role=actor.role.value, current=referral.status.value, status=status.value),
                       code="invalid_transition")
    if (referral.hold_reason == HoldReason.CONSENT and status not in (Status.CANCELLED, Status.REJECTED)
            and not decide(referral.organisation_id, referral.client_id, ConsentPurpose.SERVICE_REFERRAL,
                           referral.domain.value, now).allowed):
        raise Forbidden(_("This referral is on hold because the client withdrew consent. Record the client's new "
                          "consent first, or cancel the referral."), code="consent_required")
    problems = {}
    if occurred_at > now:
        problems["occurred_at"] = [_("Cannot lie in the future.")]
    elif occurred_at < referral.status_since:
        problems["occurred_at"] = [_("Cannot lie before the current status began (%(when)s).",
                                     when=referral.status_since.strftime("%Y-%m-%d %H:%M"))]
    reason = _checked_reason(status, reason, problems)
    if problems:
        raise Invalid(_("The status could not be recorded."), fields=problems)
    return _apply(referral, status, occurred_at, now, actor, reason, note)


def _checked_reason(status: Status, reason: str | None, problems: dict) -> str | None:
    choices = {Status.ON_HOLD: HoldReason, Status.REJECTED: RejectReason}.get(status)
    if choices is None:
        return None
    if reason not in {c.value for c in choices}:
        problems["reason"] = [_("Choose one of: %(choices)s.", choices=", ".join(c.value for c in choices))]
    return reason


def _apply(referral: ServiceReferral, status: Status, occurred_at: datetime, now: datetime, actor: User | None,
           reason: str | None, note: str | None) -> ServiceReferralEvent:
    event = ServiceReferralEvent(from_status=referral.status, to_status=status, reason=reason,
                                 occurred_at=occurred_at, recorded_at=now,
                                 recorded_by_id=actor.id if actor else None,
                                 recorded_by_organisation_id=actor.organisation_id if actor else None)
    event.note = note
    referral.events.append(event)
    _run_clock(referral, status, reason, occurred_at)
    referral.held_from = referral.status if status == Status.ON_HOLD else None
    referral.hold_reason = HoldReason(reason) if status == Status.ON_HOLD else None
    referral.reject_reason = RejectReason(reason) if status == Status.REJECTED else None
    referral.status, referral.status_since = status, occurred_at
    if status == Status.IN_PROGRESS and referral.started_at is None:
        referral.started_at = occurred_at
    if not referral.is_open:
        referral.closed_at = occurred_at
    record(f"referrals:service_referral:{status.value}", AuditAction.UPDATE, object_type="service_referral",
           object_id=referral.id, client_id=referral.client_id, user=actor)
    _tell_other_side(referral, actor, _l("A referral changed"), _l("A referral of yours has a new status in the hub."))
    return event


CLIENT_SIDE = {HoldReason.CLIENT.value, HoldReason.CONSENT.value}


def _run_clock(referral: ServiceReferral, status: Status, reason: str | None, occurred_at: datetime) -> None:
    """Keep the escalation clock: a new status starts a new stalled episode; a hold on the client's
    side pauses it (that time never counts against the partner); other holds let it run on; a closed
    referral has none. Imported history gets a clock at its first status in the hub."""
    clock = _locked_clock(referral)
    if status == Status.ON_HOLD:
        if reason in CLIENT_SIDE and clock is not None:
            clock.paused_at, clock.status = occurred_at, None
            _resolve_escalations(referral, occurred_at)
        return
    if referral.status == Status.ON_HOLD and status == referral.held_from and clock is not None:  # resumed
        if clock.paused_at is not None:
            clock.since += occurred_at - clock.paused_at
            clock.episode += 1
        clock.paused_at, clock.status = None, status
        return
    _resolve_escalations(referral, occurred_at)
    if status in TERMINAL:
        referral.clock = None  # deleted (delete-orphan)
    elif clock is None:
        referral.clock = SlaClock.started(referral, status, occurred_at)
    else:
        clock.episode += 1
        clock.paused_at, clock.status, clock.since = None, status, occurred_at


def _locked_clock(referral: ServiceReferral) -> SlaClock | None:
    """The referral's clock, locked before anything else is written (PostgreSQL; SQLite's
    transactions hold the whole database). A sweep that is escalating this referral holds the clock
    too: this waits for it, and then sees (and resolves) what it raised. A sweep that comes later
    skips the clock until this transaction ends."""
    return db.session.scalars(select(SlaClock).where(SlaClock.service_referral_id == referral.id)
                              .with_for_update().execution_options(populate_existing=True)).one_or_none()


def _resolve_escalations(referral: ServiceReferral, at: datetime) -> None:
    db.session.execute(update(Escalation).where(
        Escalation.service_referral_id == referral.id, Escalation.state == EscalationState.OPEN)
        .values(state=EscalationState.RESOLVED, resolved_at=at).execution_options(synchronize_session=False))


def hold_for_withdrawn_consent(consent, now: datetime) -> int:
    """A withdrawn consent puts the open referrals sent under it on hold (reason: consent)."""
    referrals = db.session.scalars(select(ServiceReferral).where(
        ServiceReferral.client_id == consent.client_id,
        ServiceReferral.organisation_id == consent.recipient_organisation_id,
        ServiceReferral.status.in_(OPEN - {Status.ON_HOLD}))).all()
    for referral in referrals:
        _apply(referral, Status.ON_HOLD, now, now, None, HoldReason.CONSENT.value, None)
    return len(referrals)


def _tell_other_side(referral: ServiceReferral, actor: User | None, subject: str, body: str) -> None:
    """Partners' contacts hear from the coach's side and the client's coaches from the partner's side;
    a change by the hub itself goes to both. No client data in the message."""
    recipients = []
    if actor is None or actor.role == Role.COACH:
        recipients += contact_users(referral.organisation_id)
    if actor is None or actor.role == Role.PARTNER:
        recipients += client_coaches(referral.client_id)
    for user in {u.id: u for u in recipients}.values():
        notify(user, subject, body)


# --- messages ------------------------------------------------------------------------------------

def _require_thread_access(user: User, referral: ServiceReferral, now: datetime) -> str | None:
    """A partner talks about a client only while the client's referral consent to it holds."""
    if user.role == Role.COACH:
        return None
    decision = decide(user.organisation_id, referral.client_id, ConsentPurpose.SERVICE_REFERRAL, None, now)
    if not decision.allowed:
        record("referrals:messages:refused", AuditAction.READ, AuditResult.REFUSED, object_type="service_referral",
               object_id=referral.id, client_id=referral.client_id, user=user, detail=decision.reason)
        raise Forbidden(_("The client's consent for your organisation is no longer in force."),
                        code="consent_required")
    return decision.ground


def post_message(actor: User, referral: ServiceReferral, body: str, now: datetime) -> Message:
    ground = _require_thread_access(actor, referral, now)
    if not body.strip():
        raise Invalid(_("Write a message."), fields={"body": [_("Empty.")]})
    message = Message(service_referral_id=referral.id, author_id=actor.id,
                      author_organisation_id=actor.organisation_id, sent_at=now)
    message.body = body.strip()
    db.session.add(message)
    db.session.flush()
    record("referrals:message:sent", AuditAction.CREATE, object_type="message", object_id=message.id,
           client_id=referral.client_id, user=actor, ground=ground)
    _tell_other_side(referral, actor, _l("New message"), _l("You have a new message about a referral in the hub."))
    return message


def thread(user: User, referral: ServiceReferral, now: datetime) -> list[Message]:
    """The thread, oldest first; the other side's unread messages are marked read (read receipts)."""
    ground = _require_thread_access(user, referral, now)
    db.session.execute(update(Message).where(
        Message.service_referral_id == referral.id, Message.author_organisation_id != user.organisation_id,
        Message.read_at.is_(None)).values(read_at=now).execution_options(synchronize_session=False))
    messages = db.session.scalars(select(Message).where(Message.service_referral_id == referral.id)
                                  .order_by(Message.sent_at, Message.id)).all()
    record("referrals:messages:read", AuditAction.READ, object_type="service_referral", object_id=referral.id,
           client_id=referral.client_id, user=user, ground=ground)
    return messages
