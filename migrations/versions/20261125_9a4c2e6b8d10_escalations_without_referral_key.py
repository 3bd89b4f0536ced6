"""escalations without a foreign key to their referral; a trigger refuses deleting a referral that
has escalations

The escalation sweep inserts an escalation only for a referral it holds locked in the same
statement (FOR UPDATE SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite), so the referral exists.
On PostgreSQL the key checked that again with a query per inserted row: 60 ms of a sweep that raises
10,000 escalations (bench/run.py, goal 250 ms). The key's other guarantee, that a referral with
escalations is never deleted (referrals are never deleted), is kept by a BEFORE DELETE trigger.

Revision ID: 9a4c2e6b8d10
Revises: 5f1c0a7e9b32
Create Date: 2026-11-25 09:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '9a4c2e6b8d10'
down_revision = '5f1c0a7e9b32'
branch_labels = None
depends_on = None

KEY = 'fk_escalations_service_referral_id_service_referrals'
REFUSAL = 'a service referral with escalations is never deleted'


def upgrade():
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_constraint(KEY, type_='foreignkey')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"""CREATE FUNCTION service_referrals_keep_escalated() RETURNS trigger AS $$
            BEGIN
                IF EXISTS (SELECT 1 FROM escalations WHERE service_referral_id = OLD.id) THEN
                    RAISE EXCEPTION '{REFUSAL}' USING ERRCODE = 'foreign_key_violation';
                END IF;
                RETURN OLD;
            END $$ LANGUAGE plpgsql""")
        op.execute("""CREATE TRIGGER service_referrals_keep_escalated BEFORE DELETE ON service_referrals
            FOR EACH ROW EXECUTE FUNCTION service_referrals_keep_escalated()""")
    else:
        op.execute(f"""CREATE TRIGGER service_referrals_keep_escalated BEFORE DELETE ON service_referrals
            WHEN EXISTS (SELECT 1 FROM escalations WHERE service_referral_id = OLD.id)
            BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END""")


def downgrade():
    op.execute("DROP TRIGGER service_referrals_keep_escalated"
               + (" ON service_referrals" if op.get_bind().dialect.name == 'postgresql' else ""))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION service_referrals_keep_escalated()")
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.create_foreign_key(KEY, 'service_referrals', ['service_referral_id'], ['id'])
