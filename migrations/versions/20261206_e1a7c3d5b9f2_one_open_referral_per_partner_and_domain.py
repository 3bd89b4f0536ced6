"""sla_clocks: one open referral of a client to a partner for a life domain, kept by a unique index

`refer` looked for an open referral to the same partner for the same domain and then inserted: two
coaches referring at the same moment both found none and both inserted (on PostgreSQL, and on SQLite
since reads no longer take the write lock). A referral's clock lives from its request until it
closes, so a unique index on the clocks' (client, partner, domain) lets the database refuse the
second; the hub answers it 409 duplicate_referral.

A database that already holds such twins cannot take the index: the upgrade stops and names them, so
that a coach can cancel the one too many (it is never chosen here).

Revision ID: e1a7c3d5b9f2
Revises: c4e8a1f3b7d2
Create Date: 2026-12-06 02:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e1a7c3d5b9f2'
down_revision = 'c4e8a1f3b7d2'
branch_labels = None
depends_on = None

TWINS = """
SELECT client_id, organisation_id, domain, count(*) AS open_referrals, min(service_referral_id) AS first_id,
       max(service_referral_id) AS last_id
FROM sla_clocks GROUP BY client_id, organisation_id, domain HAVING count(*) > 1 ORDER BY client_id LIMIT 20"""


def upgrade():
    twins = op.get_bind().execute(sa.text(TWINS)).all()
    if twins:
        listed = "; ".join(f"client {row.client_id}, partner {row.organisation_id}, {row.domain}: "
                           f"{row.open_referrals} open (referrals {row.first_id} .. {row.last_id})" for row in twins)
        raise RuntimeError("Some clients have more than one open referral to the same partner for the same life "
                           f"domain. Cancel the extra ones (as their coach), then upgrade again. {listed}")
    op.create_index('uq_sla_clocks_open_referral', 'sla_clocks', ['client_id', 'organisation_id', 'domain'],
                    unique=True)


def downgrade():
    op.drop_index('uq_sla_clocks_open_referral', table_name='sla_clocks')
