"""The one policy check (`decide`) and the rules of recording and withdrawing consent."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from hub.audit.models import AuditAction
from hub.audit.service import record
from hub.auth.models import User
from hub.consent.models import Consent, ConsentScope
from hub.errors import Conflict, Invalid
from hub.extensions import db
from hub.notifications.service import notify
from hub.partners.models import Organisation
from hub.partners.service import contact_users
from hub.vocab import SCOPE_ITEMS, ConsentMethod, ConsentPurpose


@dataclass(frozen=True)
class Decision:
    allowed: bool
    consent_id: int | None
    reason: str  # allowed, no_consent, not_yet_valid, expired, withdrawn, out_of_scope

    @property
    def ground(self) -> str | None:
        return f"consent:{self.consent_id}" if self.consent_id else None


def decide(organisation_id: int, client_id: int, purpose: ConsentPurpose | str, scope_item: str | None,
           at: datetime) -> Decision:
    """May `organisation_id` see `scope_item` of the client for `purpose` at `at`? Deny by default.

    The newest consent for that recipient and purpose in force at `at` (valid_from <= at <
    valid_until, not withdrawn by then) decides: allowed when its scope holds the item. So a
    client who narrows what a recipient may see does so by one new record, at once.
    `scope_item=None` asks only whether a consent is in force (what any scope allows: the alias, the
    referral's own facts, the thread); the profile is the item `profile`. Never cached: a withdrawal
    counts from the very next call.
    """
    purpose = ConsentPurpose(purpose)
    newest = db.session.scalar(
        select(Consent.id).where(
            Consent.client_id == client_id, Consent.recipient_organisation_id == organisation_id,
            Consent.purpose == purpose, Consent.valid_from <= at,
            or_(Consent.valid_until.is_(None), Consent.valid_until > at),
            or_(Consent.withdrawn_at.is_(None), Consent.withdrawn_at > at))
        .order_by(Consent.id.desc()).limit(1))
    if newest is None:
        return Decision(False, None, _denial_reason(organisation_id, client_id, purpose, at))
    if scope_item is not None and db.session.get(ConsentScope, (newest, scope_item)) is None:
        return Decision(False, None, "out_of_scope")
    return Decision(True, newest, "allowed")


def _denial_reason(organisation_id: int, client_id: int, purpose: ConsentPurpose, at: datetime) -> str:
    consents = db.session.scalars(select(Consent).where(
        Consent.client_id == client_id, Consent.recipient_organisation_id == organisation_id,
        Consent.purpose == purpose)).all()
    if not consents:
        return "no_consent"
    if any(c.withdrawn_at is not None and c.withdrawn_at <= at for c in consents):
        return "withdrawn"
    if any(c.valid_until is not None and c.valid_until <= at for c in consents):
        return "expired"
    return "not_yet_valid"


def statement_hash(statement: str) -> str:
    return hashlib.sha256(statement.encode()).hexdigest()


def record_consent(actor: User, *, client_id: int, recipient_organisation_id: int,
                   purpose: ConsentPurpose | str, scope: list[str], method: ConsentMethod | str,
                   statement: str, now: datetime, valid_from: datetime | None = None,
                   valid_until: datetime | None = None) -> Consent:
    """Record what the client agreed to, with the exact text; returns the new consent."""
    consent = new_consent(actor, recipient_organisation_id=recipient_organisation_id, purpose=purpose, scope=scope,
                          method=method, statement=statement, now=now, valid_from=valid_from,
                          valid_until=valid_until)
    consent.client_id = client_id
    db.session.add(consent)
    db.session.flush()
    audit_recorded(actor, consent)
    return consent


def new_consent(actor: User, *, recipient_organisation_id: int, purpose: ConsentPurpose | str, scope: list[str],
                method: ConsentMethod | str, statement: str, now: datetime, valid_from: datetime | None = None,
                valid_until: datetime | None = None) -> Consent:
    """A checked consent record, for its client (`client_id` or `client`) still to be set and not yet in
    the session: a caller writing more rows with it (the handoff) flushes them all at once, then calls
    `audit_recorded`. Raises Invalid, naming the fields, when the consent cannot be recorded."""
    valid_from = valid_from or now
    items = checked_scope(recipient_known=db.session.get(Organisation, recipient_organisation_id) is not None,
                          scope=scope, statement=statement, valid_from=valid_from, valid_until=valid_until)
    consent = Consent(recipient_organisation_id=recipient_organisation_id,
                      purpose=ConsentPurpose(purpose), method=ConsentMethod(method), statement=statement.strip(),
                      statement_hash=statement_hash(statement.strip()), recorded_by_id=actor.id,
                      recorded_by_organisation_id=actor.organisation_id, recorded_at=now,
                      valid_from=valid_from, valid_until=valid_until)
    consent.scope_rows = [ConsentScope(item=item) for item in items]
    return consent


def checked_scope(*, recipient_known: bool, scope: list[str], statement: str, valid_from: datetime,
                  valid_until: datetime | None) -> list[str]:
    """The consent's scope items, sorted, once the consent is known to be recordable; raises Invalid,
    naming the fields, when it is not."""
    problems: dict[str, list[str]] = {}
    if not recipient_known:
        problems["recipient_organisation_id"] = [_("There is no such organisation.")]
    items = sorted(set(scope))
    if not items:
        problems["scope"] = [_("Choose at least one thing the client agrees to share.")]
    unknown = [item for item in items if item not in SCOPE_ITEMS]
    if unknown:
        problems["scope"] = [_("Unknown: %(items)s.", items=", ".join(unknown))]
    if not statement.strip():
        problems["statement"] = [_("Record the text the client agreed to.")]
    if valid_until is not None and valid_until <= valid_from:
        problems["valid_until"] = [_("The consent must end after it begins.")]
    if problems:
        raise Invalid(_("The consent could not be recorded: %(names)s.", names=", ".join(sorted(problems))),
                      fields=problems)
    return items


def audit_recorded(actor: User, consent: Consent) -> None:
    """The audit event of a consent just recorded (flushed: it names the consent's id)."""
    record(**recorded_event(consent.id, consent.client_id, consent.purpose, consent.recipient_organisation_id),
           user=actor)


def recorded_event(consent_id: int | None, client_id: int | None, purpose: ConsentPurpose,
                   recipient_organisation_id: int) -> dict:
    """What the audit event of a recorded consent says (`record`'s arguments, without the actor)."""
    return {"tag": "consent:consent:recorded", "action": AuditAction.CREATE, "object_type": "consent",
            "object_id": None if consent_id is None else str(consent_id), "client_id": client_id,
            "detail": f"{ConsentPurpose(purpose).value} -> organisation {recipient_organisation_id}"}


def withdraw_consent(actor: User, consent: Consent, reason: str, now: datetime,
                     coaches: list[User] | None = None) -> Consent:
    """Withdraw at once: the recipient loses access from its very next request, open referrals to
    it go on hold, and its contact persons and the client's coaches are told (without client data)."""
    if consent.withdrawn_at is not None:
        raise Conflict(_("This consent was already withdrawn on %(date)s.",
                         date=consent.withdrawn_at.strftime("%Y-%m-%d")), code="already_withdrawn")
    if not reason.strip():
        raise Invalid(_("Say why the consent is withdrawn."), fields={"reason": [_("Required.")]})
    consent.withdrawn_at, consent.withdrawn_by_id, consent.withdrawal_reason = now, actor.id, reason.strip()
    record("consent:consent:withdrawn", AuditAction.UPDATE, object_type="consent", object_id=consent.id,
           client_id=consent.client_id, user=actor)
    if consent.purpose == ConsentPurpose.SERVICE_REFERRAL:
        from hub.referrals.service_referrals import hold_for_withdrawn_consent  # referrals build on consent

        hold_for_withdrawn_consent(consent, now)
    subject = _l("A client withdrew consent")
    body = _l("Consent %(id)s for %(organisation)s was withdrawn. From now on the hub shows nothing of this client "
              "to %(organisation)s under that consent.", id=consent.id, organisation=consent.recipient.name)
    told = set()
    for user in [*contact_users(consent.recipient_organisation_id), *(coaches or [])]:
        if user.id not in told:
            told.add(user.id)
            notify(user, subject, body)
    return consent
