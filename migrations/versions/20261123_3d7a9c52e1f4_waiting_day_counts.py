"""waiting day counts: service referrals counted per programme, partner, life domain, Dutch day of the
request and whole days waited, kept by triggers; partial indexes on the referrals that wait now

The waiting-time report reads its percentiles from these counts (hub/reports/waiting.py). Triggers
on service_referrals keep them right on every INSERT, DELETE and UPDATE of the columns they depend
on, whoever writes (the workflow, imports with plain INSERTs, retention, erasure), on PostgreSQL and
on SQLite. The table is filled from the existing referrals here.

The Dutch date and the day difference are the expressions of hub/reports/sql.py (copied, so that this
migration stays as it was when the code moves on): change them together.

Revision ID: 3d7a9c52e1f4
Revises: b8d4e6f1a2c9
Create Date: 2026-11-23 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3d7a9c52e1f4'
down_revision = 'b8d4e6f1a2c9'
branch_labels = None
depends_on = None

DUTCH_DATE = {
    "postgresql": "CAST(({t} AT TIME ZONE 'Europe/Amsterdam') AS DATE)",
    "sqlite": ("date({t}, CASE WHEN {t} >= date(strftime('%Y', {t}) || '-04-01', 'weekday 0', '-7 days') "
               "|| ' 01:00:00' AND {t} < date(strftime('%Y', {t}) || '-11-01', 'weekday 0', '-7 days') "
               "|| ' 01:00:00' THEN '+2 hours' ELSE '+1 hour' END)"),
}
DAYS_BETWEEN = {"postgresql": "({b} - {a})", "sqlite": "CAST(julianday({b}) - julianday({a}) AS INTEGER)"}
KEY = ("organisation_id", "domain", "started", "wait_days", "requested_on", "programme_id")
WATCHED = ("requested_at", "started_at", "organisation_id", "programme_id", "domain")


def _values(dialect: str, row: str) -> dict[str, str]:
    """The key of a referral's counts row, as SQL over `row` (NEW, OLD or a table)."""
    requested = DUTCH_DATE[dialect].format(t=f"{row}.requested_at")
    started = DUTCH_DATE[dialect].format(t=f"{row}.started_at")
    return {"organisation_id": f"{row}.organisation_id", "requested_on": requested,
            "programme_id": f"{row}.programme_id", "domain": f"{row}.domain",
            "started": f"({row}.started_at IS NOT NULL)",
            "wait_days": f"COALESCE({DAYS_BETWEEN[dialect].format(a=requested, b=started)}, 0)"}


def _add(dialect: str) -> str:
    values = _values(dialect, "NEW")
    return (f"INSERT INTO waiting_day_counts ({', '.join(KEY)}, referrals) "
            f"VALUES ({', '.join(values[c] for c in KEY)}, 1) "
            f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET referrals = waiting_day_counts.referrals + 1;")


def _remove(dialect: str) -> str:
    values = _values(dialect, "OLD")
    match = " AND ".join(f"{c} = {values[c]}" for c in KEY)
    return (f"UPDATE waiting_day_counts SET referrals = referrals - 1 WHERE {match}; "
            f"DELETE FROM waiting_day_counts WHERE {match} AND referrals <= 0;")


def upgrade():
    op.create_table('waiting_day_counts',
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.Enum('housing', 'finances', 'social', 'mental_health', 'meaning', 'physical_health', 'practical', 'work', 'legal', name='lifedomain', native_enum=False, length=20), nullable=False),
    sa.Column('started', sa.Boolean(), nullable=False),
    sa.Column('wait_days', sa.Integer(), nullable=False),
    sa.Column('requested_on', sa.Date(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('referrals', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_waiting_day_counts_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['programme_id'], ['organisations.id'], name=op.f('fk_waiting_day_counts_programme_id_organisations')),
    sa.PrimaryKeyConstraint(*KEY, name=op.f('pk_waiting_day_counts')),
    sqlite_with_rowid=False,
    )
    with op.batch_alter_table('waiting_day_counts', schema=None) as batch_op:
        batch_op.create_index('ix_waiting_day_counts_programme', ['programme_id', 'organisation_id', 'domain', 'started',
                              'wait_days', 'requested_on', 'referrals'], unique=False)
    waiting_now = sa.text("started_at IS NULL AND closed_at IS NULL")
    with op.batch_alter_table('service_referrals', schema=None) as batch_op:
        batch_op.create_index('ix_service_referrals_waiting_partner', ['organisation_id', 'requested_at'], unique=False,
                              postgresql_where=waiting_now, sqlite_where=waiting_now)
        batch_op.create_index('ix_service_referrals_waiting_programme', ['programme_id', 'requested_at'], unique=False,
                              postgresql_where=waiting_now, sqlite_where=waiting_now)

    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(f"""
            CREATE FUNCTION waiting_day_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP IN ('UPDATE', 'DELETE') THEN {_remove(dialect)} END IF;
              IF TG_OP IN ('UPDATE', 'INSERT') THEN {_add(dialect)} END IF;
              RETURN NULL;
            END $$""")
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED)
        op.execute("""CREATE TRIGGER waiting_day_counts_insert AFTER INSERT OR DELETE ON service_referrals
                      FOR EACH ROW EXECUTE FUNCTION waiting_day_counts_follow()""")
        op.execute(f"""CREATE TRIGGER waiting_day_counts_update AFTER UPDATE OF {', '.join(WATCHED)}
                       ON service_referrals FOR EACH ROW WHEN ({changed})
                       EXECUTE FUNCTION waiting_day_counts_follow()""")
    else:
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in WATCHED)
        op.execute(f"""CREATE TRIGGER waiting_day_counts_insert AFTER INSERT ON service_referrals
                       BEGIN {_add(dialect)} END""")
        op.execute(f"""CREATE TRIGGER waiting_day_counts_delete AFTER DELETE ON service_referrals
                       BEGIN {_remove(dialect)} END""")
        op.execute(f"""CREATE TRIGGER waiting_day_counts_update AFTER UPDATE OF {', '.join(WATCHED)}
                       ON service_referrals WHEN {changed}
                       BEGIN {_remove(dialect)} {_add(dialect)} END""")
    values = _values(dialect, "service_referrals")
    op.execute(f"INSERT INTO waiting_day_counts ({', '.join(KEY)}, referrals) "
               f"SELECT {', '.join(values[c] for c in KEY)}, count(*) FROM service_referrals "
               f"GROUP BY {', '.join(values[c] for c in KEY)}")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER waiting_day_counts_update ON service_referrals")
        op.execute("DROP TRIGGER waiting_day_counts_insert ON service_referrals")
        op.execute("DROP FUNCTION waiting_day_counts_follow()")
    else:
        for name in ("waiting_day_counts_insert", "waiting_day_counts_delete", "waiting_day_counts_update"):
            op.execute(f"DROP TRIGGER {name}")
    with op.batch_alter_table('service_referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_service_referrals_waiting_programme')
        batch_op.drop_index('ix_service_referrals_waiting_partner')
    with op.batch_alter_table('waiting_day_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_waiting_day_counts_programme')
    op.drop_table('waiting_day_counts')
