"""Client data is encrypted at rest, bound to its row, and keys rotate without losing anything."""
import glob
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from config import Config
from hub import create_app
from hub.auth.models import User
from hub.crypto import DecryptionError, KeyRing, new_key
from hub.db_types import EncryptedText
from hub.extensions import db
from hub.referrals.models import Client
from hub.sealed import SEALED_COLUMNS, reencrypt_all
from tests.factories import Factory


def test_the_database_file_does_not_contain_the_story(tmp_path):
    """A separate hub on its own SQLite file, so that everything is committed to disk."""
    app = create_app(Config(env="test", testing=True, instance_path=str(tmp_path),
                            database_url=f"sqlite:///{tmp_path}/sealed.sqlite3"))
    with app.app_context():
        upgrade()
    Factory(app).handoff()
    with app.app_context():
        db.engine.dispose()
    on_disk = b"".join(Path(path).read_bytes() for path in glob.glob(f"{tmp_path}/sealed.sqlite3*"))
    assert b"Roos" not in on_disk  # the alias
    assert b"raamprostitutie" not in on_disk  # the story summary
    assert b"zonnebloem" not in on_disk  # the code word
    assert b"pooier" not in on_disk.lower()  # notes and safety concerns


def test_a_sealed_value_copied_into_another_row_does_not_decrypt(app, make):
    _, first = make.handoff()
    _, second = make.handoff()
    with app.app_context():
        sealed = db.session.scalar(text("SELECT alias FROM clients WHERE id = :id"), {"id": first})
        db.session.execute(text("UPDATE clients SET alias = :sealed WHERE id = :id"), {"sealed": sealed, "id": second})
        db.session.expire_all()
        victim = db.session.get(Client, second)
        with pytest.raises(DecryptionError, match="cannot decrypt"):
            _ = victim.alias


def test_reencrypt_moves_everything_to_the_newest_key(app, make, monkeypatch):
    _, client_id = make.handoff()
    old_ring = app.extensions["hub.keyring"]
    newest = new_key()
    monkeypatch.setitem(app.extensions, "hub.keyring", KeyRing([newest, *_encoded(app)]))
    with app.app_context():
        counts = reencrypt_all()
    assert counts["clients.alias"] >= 1 and counts["story_domains.notes"] >= 2 and counts["users.totp_secret"] >= 1
    monkeypatch.setitem(app.extensions, "hub.keyring", KeyRing([newest]))  # the old key is gone now
    with app.app_context():
        client = db.session.get(Client, client_id)
        assert client.alias == "Roos" and client.safe_contact["code_word"] == "zonnebloem"
        assert all(old_ring.newest_id not in (d.notes_sealed or "") for d in client.story_domains)
    with app.app_context():
        assert reencrypt_all()["clients.alias"] == 0  # nothing left to do


def _encoded(app) -> list[str]:
    import os

    keys = app.config["HUB"].field_keys
    if keys:
        return keys
    with open(os.path.join(app.instance_path, "field-keys")) as handle:
        return [line.strip() for line in handle if line.strip()]


def test_every_encrypted_column_is_known_to_reencrypt():
    """A new sealed column that `hub reencrypt` does not know would keep an old key alive for ever."""
    known = {(table, column) for table, column, _context, _row in SEALED_COLUMNS}
    found = set()
    for mapper in db.Model.registry.mappers:
        for attribute in mapper.column_attrs:
            column = attribute.columns[0]
            if attribute.key.endswith("_sealed") or isinstance(column.type, EncryptedText):
                found.add((column.table.name, column.name))
    assert found == known


def test_sealed_values_are_stored_as_ciphertext(app, make):
    _, client_id = make.handoff()
    with app.app_context():
        row = db.session.execute(text("SELECT alias, story_summary, safe_contact FROM clients WHERE id = :id"),
                                 {"id": client_id}).one()
    assert all(value.startswith("v1:") for value in row)
    assert "Roos" not in "".join(row)


def test_a_totp_secret_copied_into_another_users_row_does_not_decrypt(app, make):
    """Copying one's own sealed secret over a colleague's (e.g. with database access) must not let
    one's own authenticator app sign in as the colleague."""
    mine, theirs = make.user("coach"), make.user("coach")
    with app.app_context():
        sealed = db.session.scalar(text("SELECT totp_secret FROM users WHERE id = :id"), {"id": mine.id})
        db.session.execute(text("UPDATE users SET totp_secret = :sealed WHERE id = :id"),
                           {"sealed": sealed, "id": theirs.id})
        db.session.commit()
        db.session.expire_all()
        with pytest.raises(DecryptionError, match="cannot decrypt"):
            _ = db.session.get(User, theirs.id).totp_secret
        assert db.session.get(User, mine.id).totp_secret == mine.secret


def test_the_migration_reseals_existing_totp_secrets_to_their_rows(isolated_app):
    """Secrets sealed by the column only (before revision 3c9e5a7b1d20) are re-sealed to their row,
    and the downgrade seals them back, without losing one."""
    from flask_migrate import downgrade

    app, account = isolated_app, Factory(isolated_app).user("coach")
    with app.app_context():
        downgrade(revision="b8d4e6f1a2c9")
        column_bound = db.session.scalar(text("SELECT totp_secret FROM users WHERE id = :id"), {"id": account.id})
        assert app.extensions["hub.keyring"].decrypt(column_bound, "users.totp_secret") == account.secret
        db.session.commit()
        upgrade()
        user = db.session.get(User, account.id)
        assert user.totp_secret == account.secret and len(user.uid) == 32
        with pytest.raises(DecryptionError):  # no longer readable by the column alone
            app.extensions["hub.keyring"].decrypt(user.totp_secret_sealed, "users.totp_secret")
