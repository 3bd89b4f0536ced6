"""escalation sweep: an index on (sla_status, organisation_id, sla_clock_since)

The sweep reads, per SLA rule, only the referrals that rule could find stalled. A rule for some
partner kinds, or a chain director's norm for one municipality, names its partners: with this index
it reads their rows in the rule's statuses older than its cutoff, and nothing else (bench/run.py).

Revision ID: 5e2b7c41d9a3
Revises: 817267ffeeec
Create Date: 2026-11-22 21:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5e2b7c41d9a3'
down_revision = '817267ffeeec'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('service_referrals', schema=None) as batch_op:
        batch_op.create_index('ix_service_referrals_sla_partner', ['sla_status', 'organisation_id', 'sla_clock_since'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('service_referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_service_referrals_sla_partner')
