"""partial indexes where most rows have no key: a handoff's coach and backup coach, a client's
import reference

A handoff is written before any coach takes it, and a client handed over in the hub has no import
reference: their index entries were all NULL, an entry in three indexes for every handoff that no
query reads (`coach_id = ?` and the import's look-up never ask for NULL). Partial, the indexes hold
the rows with a key only; uniqueness of the import reference is as before (NULLs never collided).

Revision ID: a4d8f2c6e0b1
Revises: e1a7c3d5b9f2
Create Date: 2026-12-06 02:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a4d8f2c6e0b1'
down_revision = 'e1a7c3d5b9f2'
branch_labels = None
depends_on = None

INDEXES = (('ix_handoffs_coach_id', 'handoffs', ['coach_id'], False),
           ('ix_handoffs_backup_coach_id', 'handoffs', ['backup_coach_id'], False),
           ('uq_clients_programme_import_ref', 'clients', ['programme_id', 'import_ref_hash'], True))


def upgrade():
    for name, table, columns, unique in INDEXES:
        where = sa.text(f"{columns[-1]} IS NOT NULL")
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, unique=unique, sqlite_where=where, postgresql_where=where)


def downgrade():
    for name, table, columns, unique in INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, unique=unique)
