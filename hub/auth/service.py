"""The rules of accounts and sign-in: plain functions, the acting user and the time passed in."""
from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

import pyotp
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import delete, func, select

from hub.audit.models import AuditAction, AuditResult
from hub.audit.service import record
from hub.auth import totp
from hub.auth.models import AuthSession, LoginAttempt, User
from hub.auth.passwords import hash_password, password_problems, verify_password
from hub.auth.sessions import end_all_sessions, start_session
from hub.clock import utcnow
from hub.errors import Conflict, Forbidden, HubError, Invalid, NotFound, RateLimited, Unauthorized
from hub.extensions import db
from hub.notifications.service import notify
from hub.partners.models import Organisation
from hub.vocab import Role, role_fits_kind

ACTIVATION_VALID = timedelta(days=3)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


# --- accounts ------------------------------------------------------------------------------

def create_user(*, email: str, name: str, organisation_id: int, role: Role | str, password: str,
                with_totp: bool, actor: User | None = None) -> tuple[User, str | None]:
    """Create an account with a password; with `with_totp` it gets its TOTP secret now and the
    otpauth URI is returned (the server operator's `hub user create`)."""
    return _create(email=email, name=name, organisation_id=organisation_id, role=role, password=password,
                   with_totp=with_totp, actor=actor)


def invite_user(actor: User, *, email: str, name: str, organisation_id: int, role: Role | str,
                now: datetime) -> tuple[User, str]:
    """An admin creates an account WITHOUT a password: the person sets their own password and
    authenticator app through a one-time link sent to them. So an admin never knows a way into an
    account, and cannot make one to read dossiers. The organisation's staff are told."""
    user, _uri = _create(email=email, name=name, organisation_id=organisation_id, role=role, password=None,
                         with_totp=False, actor=actor)
    token = secrets.token_urlsafe(32)
    user.activation_hash = _token_hash(token)
    user.activation_expires_at = now + ACTIVATION_VALID
    link = f"{current_app.config['HUB'].base_url}/activate/{token}"
    notify(user, _l("Your account in the chain hub"),
           _l("An account was made for you. Set your password and your authenticator app within 3 days: %(link)s",
              link=link))
    for colleague in db.session.scalars(select(User).where(
            User.organisation_id == user.organisation_id, User.active.is_(True), User.id != user.id)):
        notify(colleague, _l("A new account in your organisation"),
               _l("An account was made for %(name)s (%(email)s) in your organisation. If you do not know this "
                  "person, tell your administrator.", name=user.name, email=user.email))
    return user, token


def invited_by_link(token: str, now: datetime) -> User:
    """The account a one-time link activates; 404 when the link is unknown, used, expired or the
    account disabled, so that the person hears it when the link opens, before choosing a password."""
    user = db.session.scalar(select(User).where(User.activation_hash == _token_hash(token)))
    if user is None or not user.active or user.activation_expires_at is None or user.activation_expires_at <= now:
        raise NotFound(_("This link is not valid (any more). Ask your administrator for a new one."))
    return user


def activate(token: str, password: str, now: datetime) -> User:
    """Spend the one-time link: the person sets their password; the authenticator comes next."""
    user = invited_by_link(token, now)
    problems = password_problems(password, email=user.email, name=user.name)
    if problems:
        raise Invalid(problems[0], fields={"password": problems})
    user.password_hash, user.password_changed_at = hash_password(password), now
    user.activation_hash = user.activation_expires_at = None
    record("auth:user:activated", AuditAction.UPDATE, object_type="user", object_id=user.id, user=user)
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _create(*, email: str, name: str, organisation_id: int, role: Role | str, password: str | None,
            with_totp: bool, actor: User | None) -> tuple[User, str | None]:
    email = normalise_email(email)
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise Invalid(_("There is no organisation %(id)s.", id=organisation_id),
                      fields={"organisation": [_("Unknown organisation.")]})
    try:
        role = Role(role)
    except ValueError:
        raise Invalid(_("Unknown role %(role)s.", role=role), fields={"role": [_("Unknown role.")]}) from None
    if not role_fits_kind(role, organisation.kind):
        message = _("The role %(role)s does not fit an organisation of kind %(kind)s.",
                    role=role.value, kind=organisation.kind.value)
        raise Invalid(message, fields={"role": [message]})
    problems = [] if password is None else password_problems(password, email=email, name=name)
    if problems:
        raise Invalid(problems[0], fields={"password": problems})
    if find_user_by_email(email) is not None:
        message = _("There is already an account for %(email)s.", email=email)
        raise Conflict(message, fields={"email": [message]}, code="duplicate_email")
    # without a password (an invitation), the hash is of a random secret nobody knows
    user = User(email=email, name=name.strip(), organisation=organisation, role=role,
                password_hash=hash_password(password if password is not None else secrets.token_urlsafe(32)))
    uri = None
    if with_totp:
        user.totp_secret = totp.new_secret()
        user.totp_enrolled_at = user.created_at = user.password_changed_at = utcnow()
        uri = totp.provisioning_uri(user)
    db.session.add(user)
    db.session.flush()
    record("auth:user:created", AuditAction.CREATE, object_type="user", object_id=user.id, user=actor)
    return user, uri


def set_active(actor: User, user: User, active: bool, now: datetime) -> None:
    """Enable or disable an account; disabling ends all its sessions and tokens at once."""
    if user.id == actor.id and not active:
        raise Conflict(_("You cannot disable your own account."))
    user.active = active
    user.disabled_at = None if active else now
    if not active:
        end_all_sessions(user, now, "user_disabled")
    record("auth:user:enabled" if active else "auth:user:disabled", AuditAction.UPDATE,
           object_type="user", object_id=user.id, user=actor)


def change_password(user: User, current: str, new: str, address: str, now: datetime) -> None:
    """Change one's own password; every open session and token of the user ends. A wrong current
    password counts as a failed sign-in (the same limits), so a stolen session cannot guess it."""
    _guarded_attempt(user.email, address, now, lambda: user if verify_password(user.password_hash, current) else None,
                     wrong=lambda: Invalid(_("The current password is wrong."),
                                           fields={"current_password": [_("Wrong password.")]}), subject="password")
    problems = password_problems(new, email=user.email, name=user.name)
    if problems:
        raise Invalid(problems[0], fields={"new_password": problems})
    user.password_hash = hash_password(new)
    user.password_changed_at = now
    end_all_sessions(user, now, "password_changed")
    notify(user, _("Your password was changed"),
           _("The password of your hub account was changed at %(time)s UTC. If that was not you, tell your "
             "administrator at once.", time=now.strftime("%Y-%m-%d %H:%M")))
    record("auth:password:changed", AuditAction.UPDATE, object_type="user", object_id=user.id, user=user)


def begin_enrolment(user: User, pending_secret: str | None) -> tuple[str, str]:
    """A TOTP secret for a not yet enrolled user, kept by the caller (the browser session) until
    confirmed, never stored before: returns (secret, otpauth URI for the QR code)."""
    if user.totp_enrolled:
        raise Conflict(_("Your authenticator app is already set up."))
    secret = pending_secret or totp.new_secret()
    return secret, pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=totp.ISSUER)


def confirm_enrolment(user: User, secret: str, code: str, address: str, now: datetime) -> list[str]:
    """Finish enrolment with a first valid code (within the failure limits); stores the secret and
    returns the recovery codes, shown only once."""
    if user.totp_enrolled:
        raise Conflict(_("Your authenticator app is already set up."))

    def check() -> User | None:
        step = totp.matching_step(secret, code, now)
        if step is None:
            return None
        user.totp_secret, user.totp_last_step, user.totp_enrolled_at = secret, step, now
        return user

    _guarded_attempt(user.email, address, now, check)
    record("auth:totp:enrolled", AuditAction.UPDATE, object_type="user", object_id=user.id, user=user)
    return totp.issue_recovery_codes(user, now)


# --- sign-in -------------------------------------------------------------------------------

def _account_key(email: str) -> str:
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()


# Account-wide, from addresses the account never signed in from: after this many failures in a day
# (from anywhere), each next attempt waits twice as long as the one before, from 30 s up to an hour.
ACCOUNT_WIDE_WINDOW = timedelta(hours=24)
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_LONGEST = timedelta(hours=1)
# An address counts as the owner's own when a full sign-in to the account came from it this recently.
KNOWN_ADDRESS_DAYS = 30


# Sign-in attempts (an account hash, the source address) are kept this long: far beyond the longest
# window the limits count (a day), long enough to look into an attack afterwards; then deleted.
LOGIN_ATTEMPTS_KEPT = timedelta(days=30)


def prune_login_attempts(now: datetime) -> int:
    """The scheduler's daily job: delete the sign-in attempts older than LOGIN_ATTEMPTS_KEPT."""
    deleted = db.session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < now - LOGIN_ATTEMPTS_KEPT))
    db.session.commit()
    return deleted.rowcount


def _is_known_address(email: str, address: str, now: datetime) -> bool:
    """Did the account's owner complete a sign-in (a session was opened) from `address` lately?"""
    return db.session.scalar(
        select(AuthSession.id).join(User, User.id == AuthSession.user_id)
        .where(User.email == normalise_email(email), AuthSession.source_address == address,
               AuthSession.created_at >= now - timedelta(days=KNOWN_ADDRESS_DAYS)).limit(1)) is not None


def _retry_at(where, limit: int, since: datetime, window: timedelta, attempt_id: int) -> datetime | None:
    """When `where`'s failures in the window (not counting this attempt) are back under `limit`,
    or None when they are under it now."""
    times = db.session.scalars(select(LoginAttempt.attempted_at).where(
        where, LoginAttempt.attempted_at >= since, LoginAttempt.outcome.in_(("pending", "failed")),
        LoginAttempt.id != attempt_id).order_by(LoginAttempt.attempted_at)).all()
    if len(times) < limit:
        return None
    return times[len(times) - limit] + window  # that many of the oldest must leave the window


def _backoff_until(key: str, now: datetime, attempt_id: int, free: int) -> datetime | None:
    """Account-wide backoff: after `free` failures in a day, wait 30 s after the latest, then 1 min,
    2 min, ... up to an hour. None when the attempt may go ahead."""
    failed = LoginAttempt.outcome.in_(("pending", "failed"))
    count, latest = db.session.execute(select(func.count(), func.max(LoginAttempt.attempted_at)).where(
        LoginAttempt.account_key == key, LoginAttempt.attempted_at >= now - ACCOUNT_WIDE_WINDOW, failed,
        LoginAttempt.id != attempt_id)).one()
    if count < free:
        return None
    wait = min(BACKOFF_FIRST * 2 ** min(count - free, 20), BACKOFF_LONGEST)
    return latest + wait if now < latest + wait else None


def _guarded_attempt(email: str, address: str, now: datetime, check: Callable[[], User | None],
                     wrong: Callable[[], HubError] | None = None, subject: str = "login") -> User:
    """Run one sign-in check within the failure limits shared by all workers.

    Limits, so that a stranger can slow down but never lock out an account's owner:
    - per account and address: the configured number of failures in the window (default 5 in 15
      minutes): brute force from one address stops there, and failures elsewhere do not count;
    - per address: the configured number over all accounts (default 50), for guessing many accounts;
    - per account from any address the owner has not signed in from in the last 30 days: after as
      many failures in a day, exponential backoff (30 s doubling to an hour), for guessing from many
      addresses. The owner's own addresses are exempt, so the owner still gets in from there.
    The attempt is committed *before* it is counted, so concurrent attempts on several workers
    see each other. A refusal says when to try again. `wrong` makes the error for a failed check;
    `subject` names the audit events (auth:<subject>:refused, auth:<subject>:rate_limited).
    """
    cfg = current_app.config["HUB"]
    window = timedelta(minutes=cfg.login_failure_window_minutes)
    key = _account_key(email)
    attempt = LoginAttempt(account_key=key, source_address=address, attempted_at=now)
    db.session.add(attempt)
    db.session.commit()
    limits = [
        _retry_at((LoginAttempt.account_key == key) & (LoginAttempt.source_address == address),
                  cfg.login_failures_per_account, now - window, window, attempt.id),
        _retry_at(LoginAttempt.source_address == address, cfg.login_failures_per_address, now - window, window,
                  attempt.id),
    ]
    if not _is_known_address(email, address, now):
        limits.append(_backoff_until(key, now, attempt.id, cfg.login_failures_per_account))
    retry_at = max((moment for moment in limits if moment is not None), default=None)
    if retry_at is not None:
        attempt.outcome = "refused"
        db.session.commit()
        record(f"auth:{subject}:rate_limited", AuditAction.CREATE, AuditResult.REFUSED, object_type="session")
        seconds = max(1, math.ceil((retry_at - now).total_seconds()))
        raise RateLimited(ngettext("Too many failed attempts. Try again in %(num)d minute.",
                                   "Too many failed attempts. Try again in %(num)d minutes.",
                                   math.ceil(seconds / 60)), retry_after=seconds)
    user = check()
    attempt.outcome = "succeeded" if user else "failed"
    db.session.commit()
    if user is None:
        record(f"auth:{subject}:refused", AuditAction.CREATE, AuditResult.REFUSED, object_type="session",
               user=find_user_by_email(email))
        raise wrong() if wrong else Unauthorized(_("The e-mail address, password or code is not correct."),
                                                 code="invalid_credentials")
    return user


def _password_check(email: str, password: str) -> Callable[[], User | None]:
    def check() -> User | None:
        user = find_user_by_email(email)
        usable = user if user is not None and user.active else None
        ok = verify_password(usable.password_hash if usable else None, password)  # same cost either way
        return usable if ok else None
    return check


def check_password(email: str, password: str, address: str, now: datetime) -> User:
    """First web step: the password. Raises Unauthorized or RateLimited."""
    return _guarded_attempt(email, address, now, _password_check(email, password))


def check_second_factor(user: User, code: str, address: str, now: datetime) -> User:
    """Second web step: a TOTP code or, if it looks like one, a recovery code."""
    def check() -> User | None:
        if len(code.strip()) > 8:
            return user if totp.use_recovery_code(user, code, now) else None
        return user if totp.accept_totp(user, code, now) else None
    return _guarded_attempt(user.email, address, now, check)


def sign_in_api(email: str, password: str, otp: str, address: str, now: datetime) -> tuple[AuthSession, str]:
    """`POST /auth/login`: password and TOTP in one call; returns the session and its token."""
    password_ok = _password_check(email, password)

    def check() -> User | None:
        user = password_ok()
        if user is None:
            return None
        if not user.totp_enrolled:
            return user  # the password was right; the missing enrolment is refused below
        return user if totp.accept_totp(user, otp, now) else None

    user = _guarded_attempt(email, address, now, check)
    if not user.totp_enrolled:
        raise Forbidden(_("Sign in on the web once to set up your authenticator app."),
                        code="totp_enrolment_required")
    return open_session(user, "api", address, now)


def open_session(user: User, kind: str, address: str | None, now: datetime) -> tuple[AuthSession, str]:
    session, secret = start_session(user, kind, now, address)
    record("auth:session:created", AuditAction.CREATE, object_type="session", object_id=session.id,
           user=user, detail=kind)
    return session, secret
