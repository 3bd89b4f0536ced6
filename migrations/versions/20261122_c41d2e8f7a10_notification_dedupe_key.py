"""notification dedupe key: reminders and digests are sent once per key

Revision ID: c41d2e8f7a10
Revises: a7c3e1f09b21
Create Date: 2026-11-22 20:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c41d2e8f7a10'
down_revision = 'a7c3e1f09b21'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dedupe_key', sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_notifications_dedupe_key'), ['dedupe_key'])


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_notifications_dedupe_key'), type_='unique')
        batch_op.drop_column('dedupe_key')
