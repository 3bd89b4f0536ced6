"""escalations: the report index on raised_at INCLUDEs the referral (PostgreSQL) instead of keying on it

With the referral as its second key column, the planner could answer the escalation sweep's
anti-join ("escalated yet at this level in this episode?") with a scan of this whole index per
stalled referral when it believed the table empty: quadratic within one sweep (0.6 s for 10,000
stalled referrals, bench/run.py). INCLUDEd, the column still serves the bottleneck report from the
index alone but cannot be an index condition, so the probe goes to uq_escalations_once. SQLite has no
INCLUDE: the index holds the date alone there.

Revision ID: c4e8a1f3b7d2
Revises: 0cf7f9bffdd5
Create Date: 2026-11-25 11:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c4e8a1f3b7d2'
down_revision = '0cf7f9bffdd5'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_escalations_raised_at', table_name='escalations')
    op.create_index('ix_escalations_raised_at', 'escalations', ['raised_at'],
                    postgresql_include=['service_referral_id'])


def downgrade():
    op.drop_index('ix_escalations_raised_at', table_name='escalations')
    op.create_index('ix_escalations_raised_at', 'escalations', ['raised_at', 'service_referral_id'])
