"""users: a row identity (uid) that binds the sealed TOTP secret to its row

Until now `users.totp_secret` was sealed with associated data naming only its table and column, so
a secret copied into another user's row decrypted there (and let the copier's authenticator app
sign in as that user). Like client data, it is now bound to its row: each user gets a random `uid`
and every stored secret is re-sealed under `users.totp_secret:<uid>` (with the newest key). The
downgrade seals them back without the row. Needs HUB_FIELD_KEYS (the keys that sealed them).

Revision ID: 3c9e5a7b1d20
Revises: 3d7a9c52e1f4
Create Date: 2026-11-24 09:00:00.000000

"""
import uuid

import sqlalchemy as sa
from alembic import op

from hub.crypto import key_ring

# revision identifiers, used by Alembic.
revision = '3c9e5a7b1d20'
down_revision = '3d7a9c52e1f4'
branch_labels = None
depends_on = None

CONTEXT = "users.totp_secret"
users = sa.table("users", sa.column("id", sa.Integer), sa.column("uid", sa.String),
                 sa.column("totp_secret", sa.Text))


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('uid', sa.String(length=32), nullable=True))
    bind, ring = op.get_bind(), None
    for user_id, secret in bind.execute(sa.select(users.c.id, users.c.totp_secret)).all():
        uid = uuid.uuid4().hex
        values = {"uid": uid}
        if secret is not None:
            ring = ring or key_ring()
            values["totp_secret"] = ring.encrypt(ring.decrypt(secret, CONTEXT), f"{CONTEXT}:{uid}")
        bind.execute(sa.update(users).where(users.c.id == user_id).values(values))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('uid', existing_type=sa.String(length=32), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_users_uid'), ['uid'])


def downgrade():
    bind, ring = op.get_bind(), None
    for user_id, uid, secret in bind.execute(sa.select(users.c.id, users.c.uid, users.c.totp_secret)
                                             .where(users.c.totp_secret.is_not(None))).all():
        ring = ring or key_ring()
        bind.execute(sa.update(users).where(users.c.id == user_id).values(
            totp_secret=ring.encrypt(ring.decrypt(secret, f"{CONTEXT}:{uid}"), CONTEXT)))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_uid'), type_='unique')
        batch_op.drop_column('uid')
