"""report covering indexes: the waiting day counts' key carries the count (PostgreSQL), the waiting-now
indexes hold what the current waits read, the goals' life domains by trajectory

So that the reports read indexes alone (index-only scans on PostgreSQL, covering indexes on SQLite):
a chain director's year of waiting-time counts fetched ~31,000 heap pages for the `referrals` column,
and the current waits as many again for the id and the domain.

Revision ID: 5f1c0a7e9b32
Revises: 3d7a9c52e1f4
Create Date: 2026-11-23 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5f1c0a7e9b32'
down_revision = '3d7a9c52e1f4'
branch_labels = None
depends_on = None

KEY = "organisation_id, domain, started, wait_days, requested_on, programme_id"
WAITING_NOW = sa.text("started_at IS NULL AND closed_at IS NULL")


def _waiting_now_indexes(partner: list[str], programme: list[str]) -> None:
    with op.batch_alter_table('service_referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_service_referrals_waiting_programme')
        batch_op.drop_index('ix_service_referrals_waiting_partner')
        batch_op.create_index('ix_service_referrals_waiting_partner', partner, unique=False,
                              postgresql_where=WAITING_NOW, sqlite_where=WAITING_NOW)
        batch_op.create_index('ix_service_referrals_waiting_programme', programme, unique=False,
                              postgresql_where=WAITING_NOW, sqlite_where=WAITING_NOW)


def upgrade():
    if op.get_bind().dialect.name == "postgresql":  # on SQLite the table (WITHOUT ROWID) is its key already
        op.execute("ALTER TABLE waiting_day_counts DROP CONSTRAINT pk_waiting_day_counts, "
                   f"ADD CONSTRAINT pk_waiting_day_counts PRIMARY KEY ({KEY}) INCLUDE (referrals)")
    _waiting_now_indexes(['organisation_id', 'requested_at', 'id', 'domain'],
                         ['programme_id', 'organisation_id', 'requested_at', 'id', 'domain'])
    with op.batch_alter_table('trajectory_goals', schema=None) as batch_op:
        batch_op.create_index('ix_trajectory_goals_domains', ['trajectory_id', 'domain'], unique=False)


def downgrade():
    with op.batch_alter_table('trajectory_goals', schema=None) as batch_op:
        batch_op.drop_index('ix_trajectory_goals_domains')
    _waiting_now_indexes(['organisation_id', 'requested_at'], ['programme_id', 'requested_at'])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE waiting_day_counts DROP CONSTRAINT pk_waiting_day_counts, "
                   f"ADD CONSTRAINT pk_waiting_day_counts PRIMARY KEY ({KEY})")
