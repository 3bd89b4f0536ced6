"""escalation sweep without touching rows: covering indexes; escalations carry client and partner

The sweep over 1,000,000 service referrals read each stalled referral's row for its domain, urgency
and episode, and telling people read it again for its client and partner: random reads that cost
most of the sweep (bench/run.py). The sweep's two indexes now hold every column it reads, and an
escalation keeps its referral's client and partner (which never change), so that the notifications
are worked out from the escalations alone (the copies have no foreign keys of their own: the
referral's keys guarantee them).

Revision ID: b8d3f1a2c6e4
Revises: 5e2b7c41d9a3
Create Date: 2026-11-22 23:10:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b8d3f1a2c6e4'
down_revision = '5e2b7c41d9a3'
branch_labels = None
depends_on = None

SWEEP_READS = ['organisation_id', 'domain', 'urgent', 'sla_episode', 'client_id']


def upgrade():
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
    op.execute("UPDATE escalations SET "
               "client_id = (SELECT client_id FROM service_referrals WHERE service_referrals.id = "
               "escalations.service_referral_id), "
               "organisation_id = (SELECT organisation_id FROM service_referrals WHERE service_referrals.id = "
               "escalations.service_referral_id)")
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.alter_column('client_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('organisation_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('service_referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_service_referrals_sla_clock')
        batch_op.drop_index('ix_service_referrals_sla_partner')
        batch_op.create_index('ix_service_referrals_sla_clock', ['sla_status', 'sla_clock_since', *SWEEP_READS],
                              unique=False)
        batch_op.create_index('ix_service_referrals_sla_partner',
                              ['sla_status', 'organisation_id', 'sla_clock_since', *SWEEP_READS[1:]], unique=False)


def downgrade():
    with op.batch_alter_table('service_referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_service_referrals_sla_partner')
        batch_op.drop_index('ix_service_referrals_sla_clock')
        batch_op.create_index('ix_service_referrals_sla_partner', ['sla_status', 'organisation_id', 'sla_clock_since'],
                              unique=False)
        batch_op.create_index('ix_service_referrals_sla_clock', ['sla_status', 'sla_clock_since'], unique=False)
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_column('organisation_id')
        batch_op.drop_column('client_id')
