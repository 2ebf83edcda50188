"""Alembic environment: async engines, and a connection handed in by tests or `chargedesk db upgrade`."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from bot.engine.tables import metadata as engine_metadata
from bot.slack.tables import metadata as slack_metadata
from portal.adapters.database import create_engine
from portal.adapters.tables import metadata as portal_metadata
from portal.settings import database_url

config = context.config
# Each layer describes its own tables; one history creates them all, and autogenerate compares all three.
target_metadata = [portal_metadata, engine_metadata, slack_metadata]


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url") or database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    # Batch mode lets later migrations alter tables on SQLite, which has no ALTER COLUMN.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or database_url())
    try:
        async with engine.begin() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
elif (connection := config.attributes.get("connection")) is not None:
    do_run_migrations(connection)
else:
    asyncio.run(run_async_migrations())
