"""report covering indexes, registration facts: the waiting day counts' key carries the count
(PostgreSQL), the waiting-now indexes hold what the current waits read; registration_facts, one row per
trajectory with its client's facts and its goals' domains as bit masks, kept by triggers

So that the reports read indexes alone (index-only scans on PostgreSQL, covering indexes on SQLite):
a chain director's year of waiting-time counts fetched ~31,000 heap pages for the `referrals` column,
the current waits as many again (now counted per partner and domain from the index, the longest few read
from its start), and the registration joined clients and
goals and unpacked JSON for every counted trajectory.

The masks are the expressions of hub/reports/registration_facts.py (a bit per member of the
vocabularies in hub/vocab.py, in their order), copied so that this migration stays as it was when the
code moves on: change them together. Triggers on trajectories (insert, delete, update of the counted
columns), clients (update of gender, legal position, target groups) and trajectory_goals (insert,
delete, update of trajectory or domain) keep the facts right whoever writes.

Revision ID: 5f1c0a7e9b32
Revises: 7d2f4b9c0e13
Create Date: 2026-11-23 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5f1c0a7e9b32'
down_revision = '7d2f4b9c0e13'
branch_labels = None
depends_on = None

KEY = "organisation_id, domain, started, wait_days, requested_on, programme_id"
WAITING_NOW = sa.text("started_at IS NULL AND closed_at IS NULL")
DOMAINS = ("housing", "finances", "social", "mental_health", "meaning", "physical_health", "practical", "work",
           "legal")
TARGET_GROUPS = ("trafficking_victim", "man", "transgender", "minor", "home_worker", "undocumented")
FACTS = ("trajectory_id", "programme_id", "client_id", "opened_on", "closed_on", "outcome", "gender",
         "legal_status", "target_groups", "domains")
TRAJECTORY_WATCHED = ("programme_id", "client_id", "opened_on", "closed_on", "outcome")
CLIENT_WATCHED = ("gender", "legal_status", "target_groups")


def _bits(expression: str, vocabulary: tuple[str, ...]) -> str:
    return f"CASE {expression} " + " ".join(f"WHEN '{v}' THEN {1 << i}" for i, v in enumerate(vocabulary)) + " END"


def _domains(trajectory_id: str) -> str:
    return (f"(SELECT COALESCE(SUM(DISTINCT {_bits('trajectory_goals.domain', DOMAINS)}), 0) FROM trajectory_goals "
            f"WHERE trajectory_goals.trajectory_id = {trajectory_id})")


def _target_groups(dialect: str, groups: str) -> str:
    if dialect == "postgresql":
        listed = f"CASE WHEN json_typeof({groups}) = 'array' THEN {groups} ELSE CAST('[]' AS JSON) END"
        return (f"(SELECT COALESCE(SUM(DISTINCT {_bits('CAST(tg.value AS VARCHAR)', TARGET_GROUPS)}), 0) "
                f"FROM json_array_elements_text({listed}) AS tg(value))")
    listed = f"CASE WHEN json_type({groups}) = 'array' THEN {groups} ELSE '[]' END"
    return (f"(SELECT COALESCE(SUM(DISTINCT {_bits('CAST(tg.value AS VARCHAR)', TARGET_GROUPS)}), 0) "
            f"FROM json_each({listed}) AS tg)")


def _facts_of(dialect: str, trajectory: str) -> str:
    """SELECT the facts row of `trajectory` (NEW, or the trajectories table) joined to its client."""
    return (f"SELECT {trajectory}.id, {trajectory}.programme_id, {trajectory}.client_id, {trajectory}.opened_on, "
            f"{trajectory}.closed_on, {trajectory}.outcome, clients.gender, clients.legal_status, "
            f"{_target_groups(dialect, 'clients.target_groups')}, {_domains(f'{trajectory}.id')} FROM clients")


def _insert_facts(dialect: str) -> str:
    return (f"INSERT INTO registration_facts ({', '.join(FACTS)}) {_facts_of(dialect, 'NEW')} "
            "WHERE clients.id = NEW.client_id;")


def _client_changed(dialect: str) -> str:
    return (f"UPDATE registration_facts SET gender = NEW.gender, legal_status = NEW.legal_status, "
            f"target_groups = {_target_groups(dialect, 'NEW.target_groups')} WHERE client_id = NEW.id;")


def _goals_changed(row: str) -> str:
    return (f"UPDATE registration_facts SET domains = {_domains(f'{row}.trajectory_id')} "
            f"WHERE trajectory_id = {row}.trajectory_id;")


def _registration_facts_triggers(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute(f"""
            CREATE FUNCTION registration_facts_trajectory() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP IN ('UPDATE', 'DELETE') THEN DELETE FROM registration_facts WHERE trajectory_id = OLD.id; END IF;
              IF TG_OP IN ('UPDATE', 'INSERT') THEN {_insert_facts(dialect)} END IF;
              RETURN NULL;
            END $$""")
        op.execute(f"""
            CREATE FUNCTION registration_facts_client() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN {_client_changed(dialect)} RETURN NULL; END $$""")
        op.execute(f"""
            CREATE FUNCTION registration_facts_goal() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP IN ('UPDATE', 'DELETE') THEN {_goals_changed('OLD')} END IF;
              IF TG_OP IN ('UPDATE', 'INSERT') THEN {_goals_changed('NEW')} END IF;
              RETURN NULL;
            END $$""")
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in TRAJECTORY_WATCHED)
        op.execute("""CREATE TRIGGER registration_facts_trajectory AFTER INSERT OR DELETE ON trajectories
                      FOR EACH ROW EXECUTE FUNCTION registration_facts_trajectory()""")
        op.execute(f"""CREATE TRIGGER registration_facts_trajectory_update
                       AFTER UPDATE OF {', '.join(TRAJECTORY_WATCHED)} ON trajectories FOR EACH ROW WHEN ({changed})
                       EXECUTE FUNCTION registration_facts_trajectory()""")
        changed = ("OLD.gender IS DISTINCT FROM NEW.gender OR OLD.legal_status IS DISTINCT FROM NEW.legal_status "
                   "OR CAST(OLD.target_groups AS TEXT) IS DISTINCT FROM CAST(NEW.target_groups AS TEXT)")
        op.execute(f"""CREATE TRIGGER registration_facts_client AFTER UPDATE OF {', '.join(CLIENT_WATCHED)}
                       ON clients FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION registration_facts_client()""")
        op.execute("""CREATE TRIGGER registration_facts_goal AFTER INSERT OR DELETE ON trajectory_goals
                      FOR EACH ROW EXECUTE FUNCTION registration_facts_goal()""")
        op.execute("""CREATE TRIGGER registration_facts_goal_update AFTER UPDATE OF trajectory_id, domain
                      ON trajectory_goals FOR EACH ROW
                      WHEN (OLD.trajectory_id IS DISTINCT FROM NEW.trajectory_id OR OLD.domain IS DISTINCT FROM NEW.domain)
                      EXECUTE FUNCTION registration_facts_goal()""")
        return
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in TRAJECTORY_WATCHED)
    op.execute(f"""CREATE TRIGGER registration_facts_trajectory_insert AFTER INSERT ON trajectories
                   BEGIN {_insert_facts(dialect)} END""")
    op.execute("""CREATE TRIGGER registration_facts_trajectory_delete AFTER DELETE ON trajectories
                  BEGIN DELETE FROM registration_facts WHERE trajectory_id = OLD.id; END""")
    op.execute(f"""CREATE TRIGGER registration_facts_trajectory_update AFTER UPDATE OF {', '.join(TRAJECTORY_WATCHED)}
                   ON trajectories WHEN {changed}
                   BEGIN DELETE FROM registration_facts WHERE trajectory_id = OLD.id; {_insert_facts(dialect)} END""")
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in CLIENT_WATCHED)
    op.execute(f"""CREATE TRIGGER registration_facts_client_update AFTER UPDATE OF {', '.join(CLIENT_WATCHED)}
                   ON clients WHEN {changed} BEGIN {_client_changed(dialect)} END""")
    op.execute(f"""CREATE TRIGGER registration_facts_goal_insert AFTER INSERT ON trajectory_goals
                   BEGIN {_goals_changed('NEW')} END""")
    op.execute(f"""CREATE TRIGGER registration_facts_goal_delete AFTER DELETE ON trajectory_goals
                   BEGIN {_goals_changed('OLD')} END""")
    op.execute(f"""CREATE TRIGGER registration_facts_goal_update AFTER UPDATE OF trajectory_id, domain
                   ON trajectory_goals WHEN OLD.trajectory_id IS NOT NEW.trajectory_id OR OLD.domain IS NOT NEW.domain
                   BEGIN {_goals_changed('OLD')} {_goals_changed('NEW')} END""")


def _waiting_now_indexes(partner: list[str], programme: list[str]) -> None:
    with op.batch_alter_table('service_referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_service_referrals_waiting_programme')
        batch_op.drop_index('ix_service_referrals_waiting_partner')
        batch_op.create_index('ix_service_referrals_waiting_partner', partner, unique=False,
                              postgresql_where=WAITING_NOW, sqlite_where=WAITING_NOW)
        batch_op.create_index('ix_service_referrals_waiting_programme', programme, unique=False,
                              postgresql_where=WAITING_NOW, sqlite_where=WAITING_NOW)


def upgrade():
    if op.get_bind().dialect.name == "postgresql":  # on SQLite the table (WITHOUT ROWID) is its key already
        op.execute("ALTER TABLE waiting_day_counts DROP CONSTRAINT pk_waiting_day_counts, "
                   f"ADD CONSTRAINT pk_waiting_day_counts PRIMARY KEY ({KEY}) INCLUDE (referrals)")
    waiting = ['organisation_id', 'domain', 'requested_at', 'id', 'started_at', 'closed_at']
    _waiting_now_indexes(waiting, ['programme_id', *waiting])
    with op.batch_alter_table('trajectory_goals', schema=None) as batch_op:
        batch_op.create_index('ix_trajectory_goals_domains', ['trajectory_id', 'domain'], unique=False)
    op.create_table('registration_facts',
    sa.Column('trajectory_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('outcome', sa.String(length=15), nullable=True),
    sa.Column('gender', sa.String(length=12), nullable=False),
    sa.Column('legal_status', sa.String(length=20), nullable=False),
    sa.Column('target_groups', sa.Integer(), nullable=False),
    sa.Column('domains', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('trajectory_id', name=op.f('pk_registration_facts'))
    )
    with op.batch_alter_table('registration_facts', schema=None) as batch_op:
        batch_op.create_index('ix_registration_facts_client', ['client_id'], unique=False)
        batch_op.create_index('ix_registration_facts_programme', ['programme_id', 'opened_on', 'closed_on', 'client_id',
                              'trajectory_id', 'outcome', 'gender', 'legal_status', 'target_groups', 'domains'],
                              unique=False)
    dialect = op.get_bind().dialect.name
    _registration_facts_triggers(dialect)
    op.execute(f"INSERT INTO registration_facts ({', '.join(FACTS)}) {_facts_of(dialect, 'trajectories')} "
               "JOIN trajectories ON clients.id = trajectories.client_id")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER registration_facts_goal_update ON trajectory_goals")
        op.execute("DROP TRIGGER registration_facts_goal ON trajectory_goals")
        op.execute("DROP TRIGGER registration_facts_client ON clients")
        op.execute("DROP TRIGGER registration_facts_trajectory_update ON trajectories")
        op.execute("DROP TRIGGER registration_facts_trajectory ON trajectories")
        for function in ("registration_facts_goal", "registration_facts_client", "registration_facts_trajectory"):
            op.execute(f"DROP FUNCTION {function}()")
    else:
        for name in ("trajectory_insert", "trajectory_delete", "trajectory_update", "client_update", "goal_insert",
                     "goal_delete", "goal_update"):
            op.execute(f"DROP TRIGGER registration_facts_{name}")
    with op.batch_alter_table('registration_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_registration_facts_programme')
        batch_op.drop_index('ix_registration_facts_client')
    op.drop_table('registration_facts')
    with op.batch_alter_table('trajectory_goals', schema=None) as batch_op:
        batch_op.drop_index('ix_trajectory_goals_domains')
    _waiting_now_indexes(['organisation_id', 'requested_at'], ['programme_id', 'requested_at'])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE waiting_day_counts DROP CONSTRAINT pk_waiting_day_counts, "
                   f"ADD CONSTRAINT pk_waiting_day_counts PRIMARY KEY ({KEY})")
