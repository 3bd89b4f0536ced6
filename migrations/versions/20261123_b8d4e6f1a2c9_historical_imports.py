"""historical imports: imported trajectories and service referrals, clients by programme reference

`flask hub import trajectories|service-referrals FILE.csv` writes history that has no handoff, no
consent and no hub user. So `trajectories.handoff_id`/`opened_by_id` and
`service_referrals.consent_id`/`requested_by_id` may be NULL, but only on rows marked `imported_at`
(a CHECK constraint). Each import's natural key is a partial unique index over imported rows, and
`clients` gets the keyed hash of the programme's own client reference, unique per programme.

SQLite cannot change a column's NULL-ability in place: batch mode copies the table. Its triggers
and partial indexes are recreated from their own SQL afterwards (another branch adds triggers on
service_referrals). migrations/env.py switches SQLite's foreign-key checks off while migrating (the
old copy of a referenced table could not be dropped otherwise) and checks them all before the commit.

Revision ID: b8d4e6f1a2c9
Revises: b8d3f1a2c6e4
Create Date: 2026-11-23 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b8d4e6f1a2c9'
down_revision = 'b8d3f1a2c6e4'
branch_labels = None
depends_on = None

LIVE_TRAJECTORY = "(handoff_id IS NOT NULL AND opened_by_id IS NOT NULL) OR imported_at IS NOT NULL"
LIVE_REFERRAL = "(consent_id IS NOT NULL AND requested_by_id IS NOT NULL) OR imported_at IS NOT NULL"
IMPORTED = sa.text("imported_at IS NOT NULL")


def _sqlite_extras(table: str) -> list[tuple[str, str, str]]:
    """(type, name, sql) of the table's triggers and explicitly created indexes (SQLite only)."""
    if op.get_bind().dialect.name != "sqlite":
        return []
    rows = op.get_bind().exec_driver_sql(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('trigger', 'index') "
        "AND sql IS NOT NULL", (table,)).all()
    return [tuple(row) for row in rows]


def _restore(extras: list[tuple[str, str, str]]) -> None:
    for kind, name, sql in extras:
        op.execute(f'DROP {kind.upper()} IF EXISTS "{name}"')
        op.execute(sql)


def _copying(table: str, alter) -> None:
    """Run `alter(batch_op)` on `table`, keeping its triggers and indexes as they were on SQLite."""
    extras = _sqlite_extras(table)
    with op.batch_alter_table(table, schema=None) as batch_op:
        alter(batch_op)
    _restore(extras)


def upgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('import_ref_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('imported_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('uq_clients_programme_import_ref', 'clients', ['programme_id', 'import_ref_hash'], unique=True)

    def trajectories(batch_op):
        batch_op.add_column(sa.Column('imported_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('handoff_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('opened_by_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_check_constraint('live_or_imported', LIVE_TRAJECTORY)

    _copying('trajectories', trajectories)
    op.create_index('uq_trajectories_imported', 'trajectories', ['client_id', 'opened_on'], unique=True,
                    sqlite_where=IMPORTED, postgresql_where=IMPORTED)

    def service_referrals(batch_op):
        batch_op.add_column(sa.Column('imported_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('consent_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('requested_by_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_check_constraint('live_or_imported', LIVE_REFERRAL)

    _copying('service_referrals', service_referrals)
    op.create_index('uq_service_referrals_imported', 'service_referrals',
                    ['client_id', 'organisation_id', 'domain', 'requested_at'], unique=True,
                    sqlite_where=IMPORTED, postgresql_where=IMPORTED)


def downgrade():
    op.execute("DELETE FROM service_referral_events WHERE service_referral_id IN "
               "(SELECT id FROM service_referrals WHERE imported_at IS NOT NULL)")
    op.execute("DELETE FROM service_referrals WHERE imported_at IS NOT NULL")
    op.execute("DELETE FROM trajectories WHERE imported_at IS NOT NULL")
    op.drop_index('uq_service_referrals_imported', table_name='service_referrals')

    def service_referrals(batch_op):
        batch_op.drop_constraint('live_or_imported', type_='check')
        batch_op.alter_column('requested_by_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('consent_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('imported_at')

    _copying('service_referrals', service_referrals)
    op.drop_index('uq_trajectories_imported', table_name='trajectories')

    def trajectories(batch_op):
        batch_op.drop_constraint('live_or_imported', type_='check')
        batch_op.alter_column('opened_by_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('handoff_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('imported_at')

    _copying('trajectories', trajectories)
    op.drop_index('uq_clients_programme_import_ref', table_name='clients')
    # plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): copying `clients` would trip the audit trigger
    op.drop_column('clients', 'imported_at')
    op.drop_column('clients', 'import_ref_hash')
