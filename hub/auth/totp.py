"""TOTP second factor and recovery codes, each code accepted once only."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

import pyotp
from sqlalchemy import or_, update

from hub.auth.models import RecoveryCode, User
from hub.extensions import db

ISSUER = "Ketenhub"
STEP_SECONDS = 30
RECOVERY_CODE_COUNT = 10


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User) -> str:
    """The otpauth:// URI an authenticator app reads (from a QR code or typed in)."""
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (now, or at most one either side) whose code equals `code`."""
    code = code.strip().replace(" ", "")
    if not re.fullmatch(r"[0-9]{6}", code):  # ASCII digits only (compare_digest refuses other text)
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_SECONDS
    found = None
    for step in (current - 1, current, current + 1):  # compare all three: no early exit
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            found = step
    return found


def accept_totp(user: User, code: str, now: datetime) -> bool:
    """Accept a code once: atomically move the user's last accepted step forward, or refuse.

    Two requests racing with the same code on two workers: the database lets one UPDATE match.
    """
    if not user.totp_secret:
        return False
    step = matching_step(user.totp_secret, code, now)
    if step is None:
        return False
    moved = db.session.execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        return False
    user.totp_last_step = step
    return True


def _code_hash(code: str) -> str:
    # Recovery codes carry 80 random bits, so a plain SHA-256 (no slow hash) cannot be reversed.
    return hashlib.sha256(code.strip().replace("-", "").replace(" ", "").lower().encode()).hexdigest()


def issue_recovery_codes(user: User, now: datetime) -> list[str]:
    """Replace the user's recovery codes with fresh ones; the plain codes are shown once."""
    db.session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(10)
        codes.append("-".join(raw[i:i + 5] for i in range(0, 20, 5)))
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_code_hash(raw)))
    return codes


def use_recovery_code(user: User, code: str, now: datetime) -> bool:
    """Spend one recovery code, atomically; False when it is unknown or already used."""
    used = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _code_hash(code),
               RecoveryCode.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False))
    return used.rowcount == 1
