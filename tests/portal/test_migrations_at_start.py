"""Every start upgrades the schema, and imports Alembic only when there is something to upgrade (portal/migrations.py).

The newest revisions are read from the scripts' text, the database's from Alembic's version table: both must agree
with Alembic's own answers, and whatever they cannot decide goes to Alembic, which behaves as it always did.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine

from portal.adapters.database import create_engine
from portal.bootstrap import Portal
from portal.migrations import (
    alembic_config,
    current_revisions,
    head_revisions,
    heads_in,
    upgrade_engine,
    versions_folder,
)

ROOT = Path(__file__).resolve().parents[2]


def alembic_heads() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def test_the_heads_read_from_the_scripts_are_alembic_s() -> None:
    assert heads_in(versions_folder()) is not None  # read from the text, not by the fallback to Alembic
    assert heads_in(versions_folder()) == alembic_heads()
    assert head_revisions() == alembic_heads()


SCRIPT = '''"""{doc}"""
from __future__ import annotations

revision: str = {revision!r}
down_revision: str | tuple[str, ...] | None = {down!r}
branch_labels = None
depends_on = {depends!r}


def upgrade() -> None:
    pass
'''


def write(folder: Path, revision: str, down: str | tuple[str, ...] | None, depends: str | None = None) -> None:
    folder.mkdir(exist_ok=True)
    source = SCRIPT.format(doc=f"Revision {revision}", revision=revision, down=down, depends=depends)
    (folder / f"{revision}_step.py").write_text(source, encoding="utf-8")


def test_branches_and_merges_give_alembic_s_heads(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    write(versions, "a1", None)
    write(versions, "b1", "a1")
    write(versions, "c1", "a1")  # a branch: two heads
    assert heads_in(versions) == frozenset({"b1", "c1"})
    write(versions, "d1", ("b1", "c1"))  # a merge: one again
    (versions / "__init__.py").write_text("revision = 'not a script'\n", encoding="utf-8")  # Alembic skips it
    (versions / "notes.txt").write_text("revision = 'not a script either'\n", encoding="utf-8")
    assert heads_in(versions) == frozenset({"d1"})


@pytest.mark.parametrize(
    "odd",
    [
        'revision = "e1"\ndown_revision = PARENT\n',  # not a literal
        'revision = "e1"\ndown_revision = (\n    "d1",\n    "c1",\n)\n',  # a tuple over several lines
        'down_revision = "d1"\n',  # no revision
        'revision = "d1"\ndown_revision = None\n',  # a revision twice
        'revision = "e1"\nrevision = "f1"\ndown_revision = "d1"\n',  # assigned twice
    ],
)
def test_a_script_it_cannot_read_leaves_the_answer_to_alembic(tmp_path: Path, odd: str) -> None:
    versions = tmp_path / "versions"
    write(versions, "c1", None)
    write(versions, "d1", "c1")
    (versions / "e1_odd.py").write_text(odd, encoding="utf-8")
    assert heads_in(versions) is None


def test_depends_on_leaves_the_answer_to_alembic(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    write(versions, "a1", None)
    write(versions, "b1", None, depends="a1")  # Alembic counts dependencies in its graph
    assert heads_in(versions) is None


def alembic_current(connection: Connection) -> frozenset[str]:
    return frozenset(MigrationContext.configure(connection).get_current_heads())


async def test_the_database_s_revisions_are_alembic_s(empty_portal: Portal, tmp_path: Path) -> None:
    async with empty_portal.engine.connect() as conn:
        assert await conn.run_sync(current_revisions) == await conn.run_sync(alembic_current) == head_revisions()
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(current_revisions) == await conn.run_sync(alembic_current) == frozenset()
    finally:
        await engine.dispose()


async def test_a_database_newer_than_the_code_is_refused_by_alembic(empty_portal: Portal) -> None:
    (head,) = head_revisions()
    async with empty_portal.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
    try:
        with pytest.raises(CommandError, match="Can't locate revision identified by 'f00d'"):
            await empty_portal.upgrade()
    finally:  # the PostgreSQL schema is shared by the session's tests
        async with empty_portal.engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})


async def test_an_older_schema_is_upgraded(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'older.db'}")
    try:
        await upgrade_engine(engine, "0010")
        await upgrade_engine(engine)
        async with engine.connect() as conn:
            assert await conn.run_sync(current_revisions) == head_revisions()
            assert await conn.scalar(text("SELECT count(*) FROM fault_reports")) == 0  # a table of 0018
    finally:
        await engine.dispose()


UPGRADE = textwrap.dedent(
    """
    import asyncio, sys
    from portal.bootstrap import Portal

    async def main() -> None:
        portal = Portal.connect(sys.argv[1])
        try:
            await portal.upgrade()
        finally:
            await portal.close()

    asyncio.run(main())
    print(",".join(name for name in ("alembic", "mako") if name in sys.modules))
    """
)


def upgrade_in_a_process(url: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", UPGRADE, url], capture_output=True, text=True, check=True, cwd=ROOT, timeout=120
    )
    return result.stdout.strip()


def test_alembic_is_imported_only_when_there_is_something_to_upgrade(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    assert upgrade_in_a_process(url) == "alembic,mako"  # an empty database: Alembic creates the schema
    assert upgrade_in_a_process(url) == ""  # now current: nothing to do, nothing imported
    command.downgrade(alembic_config(url), "-1")
    assert upgrade_in_a_process(url) == "alembic,mako"  # one migration behind
