"""A real database outage for a running app: its records become unreachable, then come back.

SQLite: the database file is swapped for one that is not a database (connections opened meanwhile fail with
"file is not a database"). PostgreSQL: the test's schema is renamed away (every statement then fails with
"relation … does not exist"). Pools are emptied on both edges, so no connection or prepared statement outlives
either state.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from portal.bootstrap import Portal


@asynccontextmanager
async def records_unreachable(portal: Portal) -> AsyncIterator[None]:
    engine = portal.engine
    if engine.dialect.name == "sqlite":
        path = Path(str(engine.url.database))
        await engine.dispose()  # the last connection checkpoints the WAL into the file
        files = await asyncio.to_thread(_swap_out, path)
        try:
            yield
        finally:
            await engine.dispose()
            await asyncio.to_thread(_swap_in, path, files)
        return
    async with engine.connect() as conn:
        schema = str(await conn.scalar(text("SELECT current_schema()")))
    admin = create_async_engine(engine.url, poolclass=NullPool, isolation_level="AUTOCOMMIT", hide_parameters=True)
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'ALTER SCHEMA "{schema}" RENAME TO "{schema}_away"'))
        await engine.dispose()
        try:
            yield
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(f'ALTER SCHEMA "{schema}_away" RENAME TO "{schema}"'))
            await engine.dispose()
    finally:
        await admin.dispose()


def _swap_out(path: Path) -> list[Path]:
    files = [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]
    for file in files:
        file.rename(file.with_name(file.name + ".away"))
    path.write_bytes(b"this is not a database " * 200)
    return files


def _swap_in(path: Path, files: list[Path]) -> None:
    path.unlink()
    for file in files:
        file.with_name(file.name + ".away").rename(file)


@asynccontextmanager
async def table_unavailable(portal: Portal, table: str) -> AsyncIterator[None]:
    """One table renamed away: statements on it fail ("no such table" / "relation … does not exist") with their
    parameters, the rest of the database works."""
    async with portal.engine.begin() as conn:
        await conn.exec_driver_sql(f"ALTER TABLE {table} RENAME TO {table}_away")
    await portal.engine.dispose()  # no prepared statement still points at the table
    try:
        yield
    finally:
        async with portal.engine.begin() as conn:
            await conn.exec_driver_sql(f"ALTER TABLE {table}_away RENAME TO {table}")
        await portal.engine.dispose()
