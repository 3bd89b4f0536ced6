"""sla_clocks: the escalation clock of each open referral in its own narrow table, not in columns
of service_referrals

The escalation sweep locks the clocks it escalates (FOR UPDATE SKIP LOCKED). After a checkpoint
PostgreSQL logs the whole page of every row it first locks: the 10,000 stalled referrals of the
benchmark lay on ~8,000 pages of service_referrals (64 MB of WAL, half the sweep's time); the open
referrals' clocks fill ~2,000 pages. A clock exists from the request until the referral closes;
imported history has none (as before: no clock, no escalation). The sweep's covering indexes move
with it; the referral's partner, client, domain and urgency are copied (they never change).

SQLite: the columns are dropped with ALTER TABLE ... DROP COLUMN, not by rebuilding the table, so
that the triggers on service_referrals (waiting day counts, the escalated-referral guard) stay.

Revision ID: 0cf7f9bffdd5
Revises: 9a4c2e6b8d10
Create Date: 2026-11-25 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0cf7f9bffdd5'
down_revision = '9a4c2e6b8d10'
branch_labels = None
depends_on = None

STATUS = sa.Enum('requested', 'received', 'waitlisted', 'intake_scheduled', 'in_progress', 'completed', 'rejected',
                 'cancelled', 'on_hold', name='status', native_enum=False, length=20)
DOMAIN = sa.Enum('housing', 'finances', 'social', 'mental_health', 'meaning', 'physical_health', 'practical', 'work',
                 'legal', name='lifedomain', native_enum=False, length=20)
SWEEP_READS = ['organisation_id', 'domain', 'urgent', 'episode', 'client_id']
OLD_SWEEP_READS = ['organisation_id', 'domain', 'urgent', 'sla_episode', 'client_id']
OPEN = "status NOT IN ('completed', 'rejected', 'cancelled')"


def upgrade():
    op.create_table(
        'sla_clocks',
        sa.Column('service_referral_id', sa.Integer(), nullable=False),
        sa.Column('status', STATUS, nullable=True),
        sa.Column('since', sa.DateTime(timezone=True), nullable=False),
        sa.Column('episode', sa.Integer(), nullable=False),
        sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('domain', DOMAIN, nullable=False),
        sa.Column('urgent', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['service_referral_id'], ['service_referrals.id'],
                                name=op.f('fk_sla_clocks_service_referral_id_service_referrals')),
        sa.PrimaryKeyConstraint('service_referral_id', name=op.f('pk_sla_clocks')))
    op.execute(f"""INSERT INTO sla_clocks (service_referral_id, status, since, episode, paused_at, organisation_id,
                                           client_id, domain, urgent)
                   SELECT id, sla_status, sla_clock_since, sla_episode, paused_at, organisation_id, client_id, domain,
                          urgent
                   FROM service_referrals WHERE {OPEN} AND sla_clock_since IS NOT NULL""")
    op.create_index('ix_sla_clocks_status_since', 'sla_clocks', ['status', 'since', *SWEEP_READS])
    op.create_index('ix_sla_clocks_partner', 'sla_clocks', ['status', 'organisation_id', 'since', *SWEEP_READS[1:]])
    op.drop_index('ix_service_referrals_sla_clock', table_name='service_referrals')
    op.drop_index('ix_service_referrals_sla_partner', table_name='service_referrals')
    for column in ('sla_status', 'sla_clock_since', 'sla_episode', 'paused_at'):
        op.execute(f"ALTER TABLE service_referrals DROP COLUMN {column}")


def downgrade():
    op.execute("ALTER TABLE service_referrals ADD COLUMN sla_status VARCHAR(20)")
    op.execute("ALTER TABLE service_referrals ADD COLUMN sla_clock_since TIMESTAMP WITH TIME ZONE"
               if op.get_bind().dialect.name == 'postgresql' else
               "ALTER TABLE service_referrals ADD COLUMN sla_clock_since DATETIME")
    op.execute("ALTER TABLE service_referrals ADD COLUMN sla_episode INTEGER NOT NULL DEFAULT '1'")
    op.execute("ALTER TABLE service_referrals ADD COLUMN paused_at TIMESTAMP WITH TIME ZONE"
               if op.get_bind().dialect.name == 'postgresql' else
               "ALTER TABLE service_referrals ADD COLUMN paused_at DATETIME")
    op.execute("""UPDATE service_referrals SET
                    sla_status = (SELECT status FROM sla_clocks WHERE service_referral_id = service_referrals.id),
                    sla_clock_since = (SELECT since FROM sla_clocks WHERE service_referral_id = service_referrals.id),
                    sla_episode = COALESCE((SELECT episode FROM sla_clocks
                                            WHERE service_referral_id = service_referrals.id), 1),
                    paused_at = (SELECT paused_at FROM sla_clocks WHERE service_referral_id = service_referrals.id)""")
    op.create_index('ix_service_referrals_sla_clock', 'service_referrals',
                    ['sla_status', 'sla_clock_since', *OLD_SWEEP_READS])
    op.create_index('ix_service_referrals_sla_partner', 'service_referrals',
                    ['sla_status', 'organisation_id', 'sla_clock_since', *OLD_SWEEP_READS[1:]])
    op.drop_index('ix_sla_clocks_partner', table_name='sla_clocks')
    op.drop_index('ix_sla_clocks_status_since', table_name='sla_clocks')
    op.drop_table('sla_clocks')
