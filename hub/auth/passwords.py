"""Password hashing (argon2id) and the password policy."""
from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l
from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 128

_hasher = PasswordHasher()  # argon2id, the library's RFC 9106 low-memory profile
# Verified against when the account does not exist, so both answers take as long.
_DUMMY_HASH = _hasher.hash("no account has this password, it only costs the same time")


@cache
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; with no hash, spends the same time and answers False."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problems(password: str, *, email: str = "", name: str = "") -> list[str]:
    """What is wrong with a new password; an empty list when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return [str(_l("Use at least %(n)d characters.", n=MIN_LENGTH))]
    if len(password) > MAX_LENGTH:
        return [str(_l("Use at most %(n)d characters.", n=MAX_LENGTH))]
    lowered = password.lower()
    if lowered in _common_passwords() or len(set(lowered)) < 4:
        return [str(_l("This password is too common or too simple; choose another."))]
    personal = {email.lower(), email.lower().split("@")[0], name.lower()} - {""}
    if lowered in personal:
        return [str(_l("Do not use your e-mail address or name as password."))]
    if zxcvbn(password[:64], user_inputs=list(personal))["score"] < 3:  # words, dates, keyboard walks
        return [str(_l("This password is too easy to guess; a sentence of a few unusual words works well."))]
    return []
