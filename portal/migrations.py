"""Apply the Alembic migrations shipped in bot/migrations/ — the only way the schema changes.

Every process upgrades the schema when it starts, and almost always finds it at the newest migration already. So a
start compares the database's revisions (Alembic's version table, read with plain SQL) with the newest ones of the
shipped history (read from the scripts' text) and imports Alembic only when they differ: Alembic and what it pulls
in (Mako, Pygments) cost about 10 MB and a third of a second of every start otherwise. When they differ, Alembic
does what it always did: upgrades an empty or older schema, and refuses a revision it does not know (a database
newer than the code).
"""

from __future__ import annotations

import ast
import functools
import re
from importlib import resources
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

# One history for the whole database, so it lives with the composition (bot/); env.py reads every layer's tables.
# A "package:folder" location: Alembic finds it through importlib.resources, so an installed wheel (not only the
# source tree) runs the migrations from any working directory. A name, not an import: the portal stays below the bot.
SCRIPT_LOCATION = "bot:migrations"
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps
# The files Alembic reads as revisions (alembic.script.base's `_only_source_rev_file`: not sourceless).
_SCRIPT_NAME = re.compile(r"(?!\.#|__init__).*\.py$")
# A top-level `name = value` or `name: type = value` on one line, as Alembic's script template writes them.
_ASSIGNMENT = re.compile(r"^(revision|down_revision|depends_on)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)


def alembic_config(url: str | None = None) -> Config:
    from alembic.config import Config  # only when migrations run: see the module's docstring

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if url:
        # ConfigParser interpolation would choke on "%" in passwords.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def versions_folder() -> Traversable:
    package, _, folder = SCRIPT_LOCATION.partition(":")
    return resources.files(package) / folder / "versions"


def heads_in(versions: Traversable) -> frozenset[str] | None:
    """The history's newest revisions (those no script revises), read from the scripts' text without Alembic.

    None when a script is not in the plain form this reads — a revision id or parent that is not a literal on one
    line, or a `depends_on` (which Alembic counts in the graph) — so that the caller asks Alembic instead.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in versions.iterdir():
        if not script.is_file() or not _SCRIPT_NAME.match(script.name):
            continue
        found = _identifiers(script.read_text(encoding="utf-8"))
        if found is None or found.get("depends_on") is not None:
            return None
        revision, down = found.get("revision"), found.get("down_revision")
        if not isinstance(revision, str) or revision in revisions:
            return None
        revisions.add(revision)
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple) and all(isinstance(parent, str) for parent in down):
            parents.update(down)  # a merge
        elif down is not None:
            return None
    return frozenset(revisions - parents) or None


def _identifiers(source: str) -> dict[str, object] | None:
    found: dict[str, object] = {}
    for match in _ASSIGNMENT.finditer(source):
        name, value = match.groups()
        if name in found:
            return None
        try:
            found[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):  # an expression, or a tuple that goes on over several lines
            return None
    return found


@functools.cache
def head_revisions() -> frozenset[str]:
    """The newest revisions of the shipped history, as `alembic heads` lists them (read once: they change only
    with the code)."""
    heads = heads_in(versions_folder())
    if heads is not None:
        return heads
    from alembic.script import ScriptDirectory  # a script this module cannot read: Alembic can

    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(connection: Connection) -> frozenset[str]:
    """The revisions the database is at, from Alembic's version table (empty: no schema yet)."""
    if not connection.dialect.has_table(connection, VERSION_TABLE):
        return frozenset()
    return frozenset(connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())


def upgrade(url: str, revision: str = "head") -> None:
    """Synchronous entry point (the CLI); runs its own event loop inside env.py."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


async def upgrade_engine(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade through an existing async engine, from inside a running event loop (tests, start-up)."""

    def run(connection: Connection) -> None:
        from alembic import command

        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        if revision == "head" and await connection.run_sync(current_revisions) == head_revisions():
            return  # nothing to do, and no Alembic to import
        await connection.run_sync(run)
