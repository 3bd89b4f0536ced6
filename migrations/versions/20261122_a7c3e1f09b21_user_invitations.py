"""user invitations: a one-time activation link instead of an admin-chosen password

Revision ID: a7c3e1f09b21
Revises: 86b932f49eeb
Create Date: 2026-11-22 20:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a7c3e1f09b21'
down_revision = '86b932f49eeb'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('activation_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('activation_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_users_activation_hash'), ['activation_hash'])


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_activation_hash'), type_='unique')
        batch_op.drop_column('activation_expires_at')
        batch_op.drop_column('activation_hash')
