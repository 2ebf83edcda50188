"""SQLite's statements run on the event loop's thread (portal.adapters.sqlite_inline): what that must not cost.

A connection that finds another process's write lock waits for it without holding the loop (other turns and
acknowledgements go on meanwhile), gets it once it is free, and gives up after its busy timeout with SQLite's own
"database is locked", having changed nothing. And only transactions marked `losable` commit without an fsync.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from portal.adapters.database import create_engine, losable


async def _ticks_while(work: asyncio.Future[object] | asyncio.Task[object]) -> int:
    """How many 5 ms sleeps the loop completed while `work` ran: about work's duration ÷ 5 ms if it never blocks."""
    ticks = 0
    while not work.done():
        await asyncio.sleep(0.005)
        ticks += 1
    return ticks


async def _write(url: str, busy_timeout: float) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            raw.driver_connection.busy_timeout = busy_timeout  # type: ignore[union-attr]
            await connection.execute(text("INSERT INTO notes (body) VALUES ('from the loop')"))
            await connection.commit()
            return int((await connection.execute(text("SELECT count(*) FROM notes"))).scalar_one())
    finally:
        await engine.dispose()


@pytest.fixture
def database(tmp_path: Path) -> tuple[str, Path]:
    path = tmp_path / "waits.db"
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    setup.close()
    return f"sqlite+aiosqlite:///{path}", path


async def test_a_writer_waits_for_another_process_lock_without_holding_the_loop(database: tuple[str, Path]) -> None:
    url, path = database
    other = sqlite3.connect(path, isolation_level=None)  # another process's connection, as far as SQLite knows
    other.execute("BEGIN IMMEDIATE")
    loop = asyncio.get_running_loop()
    loop.call_later(0.3, other.rollback)  # the other process finishes 300 ms later
    write = asyncio.ensure_future(_write(url, busy_timeout=5.0))
    ticks = await _ticks_while(write)
    assert await write == 1
    # 300 ms of waiting is about 60 ticks of 5 ms; SQLite's own busy handler on this thread would have allowed none.
    assert ticks >= 30
    other.close()


async def test_a_writer_gives_up_after_its_busy_timeout_and_changes_nothing(database: tuple[str, Path]) -> None:
    url, path = database
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    write = asyncio.ensure_future(_write(url, busy_timeout=0.2))
    ticks = await _ticks_while(write)
    with pytest.raises(OperationalError, match="database is locked"):
        await write
    assert ticks >= 20  # waited about 200 ms, and the loop ran meanwhile
    other.rollback()
    assert other.execute("SELECT count(*) FROM notes").fetchone() == (0,)
    other.close()


async def test_statements_run_on_the_loops_thread(database: tuple[str, Path]) -> None:
    url, _ = database
    threads = threading.active_count()
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO notes (body) VALUES ('from the loop')"))
            # aiosqlite would run a thread for this connection; this one has none.
            assert threading.active_count() == threads
    finally:
        await engine.dispose()


async def test_only_losable_transactions_commit_without_an_fsync(database: tuple[str, Path]) -> None:
    url, _ = database
    engine = create_engine(url)
    synchronous = text("PRAGMA synchronous")  # 2: FULL, the WAL fsynced at every commit; 1: NORMAL, not
    try:
        for use, level in ((engine, 2), (losable(engine), 1), (engine, 2), (engine, 2), (losable(engine), 1)):
            async with use.begin() as connection:
                assert (await connection.execute(synchronous)).scalar_one() == level
                await connection.execute(text("INSERT INTO notes (body) VALUES ('x')"))
            async with engine.connect() as connection:  # a plain connection after either is durable again
                assert (await connection.execute(synchronous)).scalar_one() == 2
                await connection.rollback()
    finally:
        await engine.dispose()
