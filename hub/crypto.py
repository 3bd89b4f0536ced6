"""Encryption at rest: AES-256-GCM under a key ring (HUB_FIELD_KEYS, newest first).

A value is stored as `v1:<key id>:<base64(nonce || ciphertext)>`. The associated data binds the
ciphertext to where it belongs (table, column and, for client data, the row's identity), so a
value copied into another row or column does not decrypt. Old keys keep decrypting until
`flask hub reencrypt` has moved everything to the newest key.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

PREFIX = "v1"


class KeyRing:
    def __init__(self, encoded_keys: list[str]):
        if not encoded_keys:
            raise ValueError("the key ring needs at least one key")
        self.keys: dict[str, AESGCM] = {}
        self._lookup_keys: dict[str, bytes] = {}
        self.newest_id = ""
        for encoded in encoded_keys:
            raw = base64.urlsafe_b64decode(encoded.encode() + b"=" * (-len(encoded) % 4))
            if len(raw) != 32:
                raise ValueError("each HUB_FIELD_KEYS key must be 32 bytes, base64-encoded")
            key_id = hashlib.sha256(raw).hexdigest()[:8]
            self.keys.setdefault(key_id, AESGCM(raw))
            # a key of its own for lookups, derived so that no HMAC ever uses the AES key itself
            self._lookup_keys.setdefault(key_id, hashlib.sha256(b"hub lookup v1\0" + raw).digest())
            self.newest_id = self.newest_id or key_id

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self.keys[self.newest_id].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{PREFIX}:{self.newest_id}:{base64.b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, stored: str, context: str) -> str:
        try:
            prefix, key_id, payload = stored.split(":", 2)
            raw = base64.b64decode(payload)
            if prefix != PREFIX or key_id not in self.keys:
                raise KeyError(key_id)
            return self.keys[key_id].decrypt(raw[:12], raw[12:], context.encode()).decode()
        except (ValueError, KeyError, InvalidTag) as exc:
            raise DecryptionError(f"cannot decrypt a value for {context.split(':')[0]}: wrong place, "
                                  "or its key is missing from HUB_FIELD_KEYS") from exc

    def lookup_hashes(self, value: str, context: str) -> list[str]:
        """Keyed hashes (HMAC-SHA256) of `value` for finding a row by it without storing it: one per
        key, the newest key's first (write that one; look up by any, so rotation loses nothing)."""
        message = f"{context}\0{value}".encode()
        return [hmac.new(self._lookup_keys[key_id], message, hashlib.sha256).hexdigest()
                for key_id in (self.newest_id, *(k for k in self._lookup_keys if k != self.newest_id))]

    def is_current(self, stored: str) -> bool:
        return stored.split(":", 2)[1] == self.newest_id


class DecryptionError(RuntimeError):
    pass


def new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def development_keys(instance_path: str) -> list[str]:
    """Without HUB_FIELD_KEYS in development, a key is generated into instance/ once and kept."""
    path = os.path.join(instance_path, "field-keys")
    if not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(new_key() + "\n")
    with open(path) as handle:
        return [line.strip() for line in handle if line.strip()]


def key_ring() -> KeyRing:
    return current_app.extensions["hub.keyring"]


class RowBound:
    """Mixin for client data: each row gets a random identity (`uid`) at construction, which the
    row's encrypted fields use as associated data."""

    def __init__(self, **kwargs):
        self.uid = kwargs.pop("uid", None) or uuid.uuid4().hex
        super().__init__(**kwargs)


def new_uid() -> str:
    """A row identity for `RowBound` rows written without the ORM (Core INSERTs)."""
    return uuid.uuid4().hex


class EncryptedField(property):
    """A plain-text property over a column that holds the value encrypted, bound to this row; on the
    class, `seal(uid, value)` gives the stored form for a row written without the ORM."""

    def __init__(self, stored_attribute: str, context: str):
        def read(row) -> str | None:
            stored = getattr(row, stored_attribute)
            return None if stored is None else key_ring().decrypt(stored, f"{context}:{row.uid}")

        def write(row, value: str | None) -> None:
            setattr(row, stored_attribute, self.seal(row.uid, value))

        super().__init__(read, write, doc=f"{context}, encrypted at rest")
        self.context = context

    def seal(self, uid: str, value: str | None) -> str | None:
        return None if value is None else key_ring().encrypt(value, f"{self.context}:{uid}")


def encrypted_field(stored_attribute: str, context: str) -> EncryptedField:
    """A plain-text property over a column that holds the value encrypted, bound to this row."""
    return EncryptedField(stored_attribute, context)
