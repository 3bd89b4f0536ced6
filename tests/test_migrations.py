"""Every schema change is a migration: the models and the migrated database agree."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hub.extensions import db


def test_the_migrations_create_exactly_what_the_models_describe(app):
    with app.app_context():
        context = MigrationContext.configure(db.session.connection(), opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []
