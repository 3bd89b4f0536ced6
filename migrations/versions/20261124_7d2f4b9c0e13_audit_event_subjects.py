"""audit event subjects: the records a list read returned

A list read (inbox, intake queue, overview, escalations) is one audit event; `audit_event_subjects`
holds a row per record the page returned (object id, client id), written in bulk with the event, so
that the client's read log finds the event. Append-only like the events themselves: UPDATE is
refused; DELETE only of subjects whose event is older than five years (the database's clock) and
whose client is not under a legal hold (the retention job removes them before their event); on
PostgreSQL TRUNCATE is refused too.

Revision ID: 7d2f4b9c0e13
Revises: 3c9e5a7b1d20
Create Date: 2026-11-24 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '7d2f4b9c0e13'
down_revision = '3c9e5a7b1d20'
branch_labels = None
depends_on = None

YEARS = 5  # as the audit trail's own trigger (revision 817267ffeeec)
RETAINED = (f"audit_event_subjects is append-only: its rows are never changed, and removed only after {YEARS} "
            "years and not while the client is under a legal hold")


def upgrade():
    op.create_table('audit_event_subjects',
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('object_id', sa.String(length=40), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['audit_events.id'],
                            name=op.f('fk_audit_event_subjects_event_id_audit_events')),
    sa.PrimaryKeyConstraint('event_id', 'object_id', name=op.f('pk_audit_event_subjects'))
    )
    with op.batch_alter_table('audit_event_subjects', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_subjects_client', ['client_id', 'event_id'], unique=False)
    _append_only()


def _append_only():
    kept = f"""(SELECT occurred_at FROM audit_events WHERE audit_events.id = OLD.event_id) >= {{young}}
               OR EXISTS (SELECT 1 FROM clients WHERE clients.id = OLD.client_id
                          AND clients.legal_hold_since IS NOT NULL)"""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION audit_event_subjects_retained() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP <> 'DELETE' THEN
                RAISE EXCEPTION '{RETAINED}';
              END IF;
              IF {kept.format(young=f"now() - interval '{YEARS} years'")} THEN
                RAISE EXCEPTION '{RETAINED}';
              END IF;
              RETURN OLD;
            END $$""")
        op.execute("""CREATE TRIGGER audit_event_subjects_retained BEFORE UPDATE OR DELETE ON audit_event_subjects
                      FOR EACH ROW EXECUTE FUNCTION audit_event_subjects_retained()""")
        op.execute("""CREATE TRIGGER audit_event_subjects_no_truncate BEFORE TRUNCATE ON audit_event_subjects
                      FOR EACH STATEMENT EXECUTE FUNCTION audit_event_subjects_retained()""")
    else:
        op.execute(f"""CREATE TRIGGER audit_event_subjects_no_update BEFORE UPDATE ON audit_event_subjects
                       BEGIN SELECT RAISE(ABORT, '{RETAINED}'); END""")
        op.execute(f"""CREATE TRIGGER audit_event_subjects_retained BEFORE DELETE ON audit_event_subjects
                       WHEN {kept.format(young=f"datetime('now', '-{YEARS} years')")}
                       BEGIN SELECT RAISE(ABORT, '{RETAINED}'); END""")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_event_subjects_no_truncate ON audit_event_subjects")
        op.execute("DROP TRIGGER audit_event_subjects_retained ON audit_event_subjects")
        op.execute("DROP FUNCTION audit_event_subjects_retained()")
    with op.batch_alter_table('audit_event_subjects', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_subjects_client')
    op.drop_table('audit_event_subjects')
