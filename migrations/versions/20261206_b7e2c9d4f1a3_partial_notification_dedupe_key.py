"""notifications: the dedupe key's unique index holds only the notifications that have a key

Only reminders and digests carry a dedupe key; every other notification (a handoff's notice to each
coach, an escalation's digest...) had a NULL entry in the unique index, which no query reads (a key is
looked up by its value) and which never collided. Partial, the index holds the keyed rows only:
uniqueness of a key is as before, and a notification without one writes one index entry fewer.

Revision ID: b7e2c9d4f1a3
Revises: a4d8f2c6e0b1
Create Date: 2026-12-06 04:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e2c9d4f1a3'
down_revision = 'a4d8f2c6e0b1'
branch_labels = None
depends_on = None

NAME = 'uq_notifications_dedupe_key'
KEYED = sa.text("dedupe_key IS NOT NULL")


def upgrade():
    # A unique constraint (SQLite: part of the table's definition, so the table is rebuilt without it).
    with op.batch_alter_table('notifications') as batch_op:
        batch_op.drop_constraint(NAME, type_='unique')
    op.create_index(NAME, 'notifications', ['dedupe_key'], unique=True, sqlite_where=KEYED, postgresql_where=KEYED)


def downgrade():
    op.drop_index(NAME, table_name='notifications')
    with op.batch_alter_table('notifications') as batch_op:
        batch_op.create_unique_constraint(NAME, ['dedupe_key'])
