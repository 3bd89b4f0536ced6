"""erasure requests: how the client's open trajectory ended, kept with a request a legal hold holds

A coach who records an erasure for a client with an open trajectory says how it ended (outcome, end
day, destination of an exit); the trajectory is closed with the erasure. Under a legal hold nothing
happens yet: the request is kept, and now its closing with it, so that lifting the hold closes the
trajectory and erases, even when the client withdrew the handoff consent in the meantime.

Revision ID: c3f8a1d6e2b4
Revises: b7e2c9d4f1a3
Create Date: 2026-12-06 07:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3f8a1d6e2b4'
down_revision = 'b7e2c9d4f1a3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('erasure_requests') as batch_op:
        batch_op.add_column(sa.Column('close_outcome', sa.Enum('exited', 'dropped_out', 'moved', 'other',
                                                               name='trajectoryoutcome', native_enum=False,
                                                               length=15), nullable=True))
        batch_op.add_column(sa.Column('close_destination', sa.Enum('paid_work', 'education', 'day_activities',
                                                                   'benefits', name='exitdestination',
                                                                   native_enum=False, length=20), nullable=True))
        batch_op.add_column(sa.Column('close_on', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('erasure_requests') as batch_op:
        batch_op.drop_column('close_on')
        batch_op.drop_column('close_destination')
        batch_op.drop_column('close_outcome')
