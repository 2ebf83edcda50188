"""Apply the Alembic migrations shipped in bot/migrations/ — the only way the schema changes."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

# One history for the whole database, so it lives with the composition (bot/); env.py reads every layer's tables.
# A "package:folder" location: Alembic finds it through importlib.resources, so an installed wheel (not only the
# source tree) runs the migrations from any working directory. A name, not an import: the portal stays below the bot.
SCRIPT_LOCATION = "bot:migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if url:
        # ConfigParser interpolation would choke on "%" in passwords.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Synchronous entry point (the CLI); runs its own event loop inside env.py."""
    command.upgrade(alembic_config(url), revision)


async def upgrade_engine(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade through an existing async engine, from inside a running event loop (tests, start-up)."""

    def run(connection: object) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)
