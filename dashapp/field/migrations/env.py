"""Alembic's environment, run programmatically by ``dashapp.field.engine.migrate`` (no alembic.ini):
the connection comes in ``config.attributes["connection"]``."""

from alembic import context

from dashapp.field.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
