"""What every benchmark shares: percentiles, the Markdown of its report, how it was run and on what machine, fresh
databases, and writing its section of BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.reports import write_section
from portal.bootstrap import Portal

TARGET_COLUMNS = ("measure", "result", "target", "")  # the last column says whether the target was met


def percentile(values: Sequence[float], p: float) -> float:
    """The `p`th percentile by nearest rank (NaN when nothing was measured)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """The lines of a Markdown table: the header, its rule, and one line per row (cells as given)."""

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cells) + " |"

    return [line(header), "|" + "---|" * len(header), *(line(row) for row in rows)]


def command_line(module: str, argv: Sequence[str], database_url: str | None = None) -> str:
    """How a benchmark was run, for its report, with the password of `database_url` (if any) hidden."""
    if database_url:
        hidden = make_url(database_url).render_as_string(hide_password=True)
        argv = [hidden if a == database_url else a.replace(database_url, hidden) for a in argv]
    return f"python -m {module} {' '.join(argv)}".strip()


def machine() -> str:
    """The machine a report's figures come from: cores, processor and Python."""
    return f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python {platform.python_version()}"


def publish(section: str, path: Path | None) -> None:
    """Print a report's section, and replace it in the Markdown file `path` when given (``--write``)."""
    print(section)
    if path:
        write_section(path, section)


@asynccontextmanager
async def fresh_postgres_database(url: str, prefix: str = "chargedesk_bench") -> AsyncIterator[str]:
    """Create an empty database next to the one `url` names; yield its URL; drop it (with its connections)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT", hide_parameters=True)
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(url).set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@asynccontextmanager
async def migrated_portal(postgres_url: str | None, name: str = "bench") -> AsyncIterator[Portal]:
    """A portal on a fresh, migrated database: a temporary SQLite file, or a new PostgreSQL database."""
    if postgres_url:
        async with fresh_postgres_database(postgres_url) as url:
            portal = Portal.connect(url)
            try:
                await portal.upgrade()
                yield portal
            finally:
                await portal.close()
        return
    with tempfile.TemporaryDirectory() as directory:
        portal = Portal.connect(f"sqlite+aiosqlite:///{Path(directory) / f'{name}.db'}")
        try:
            await portal.upgrade()
            yield portal
        finally:
            await portal.close()
