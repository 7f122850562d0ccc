"""Alembic environment: runs on the connection the caller hands over (see runner.py)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from migrations.metadata import target_metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `goodloop migrate` (migrations.runner), not bare alembic")
run_migrations(connection)
