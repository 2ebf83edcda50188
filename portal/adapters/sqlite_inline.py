"""SQLite for the async engine, its statements run on the event loop's own thread.

aiosqlite runs every call of the driver (cursor, execute, fetch, commit…) on a thread of its own and hands the
result back through the event loop: about six hand-overs per SQL statement, each a wake-up of the loop. A turn of
the assistant issues about fourteen statements, so most of its CPU time went into hand-overs, not into SQLite
(`python -m bench.turn_cost`: 11.7 → 7.9 CPU ms per turn without them). SQLite itself answers a statement in
microseconds, from memory or the page cache, and a durable commit costs one fsync of the write-ahead log (about
half a millisecond here): less than the hand-overs that used to wrap it.

So `connect` returns an aiosqlite connection whose calls run at once, on the caller's thread, and whose results
are already there when awaited: SQLAlchemy's aiosqlite dialect and everything above it stay as they are. Only a
COMMIT, which waits for the disk, goes to a thread (one hand-over per transaction instead of dozens).

The one thing that could hold the loop for long is SQLite's busy handler: a connection waiting for another
process's write lock sleeps in it, up to the busy timeout. Here that timeout is 0, and a statement refused as busy
outside a transaction (the `BEGIN IMMEDIATE` that takes the write lock, or a pragma at connect) is tried again
after an `asyncio.sleep`, with growing pauses, until `busy_timeout` has passed: the loop goes on serving other
work meanwhile. A statement that failed did nothing, so trying it again is safe. Inside a transaction the write
lock is already ours (every transaction begins IMMEDIATE, and in WAL mode readers never block a writer), so a busy
answer there is not expected and is raised as before.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Generator
from typing import Any

import aiosqlite

# Pauses between tries for a lock another process holds: short at first (a turn's transaction lasts about a
# millisecond), then no more than 50 ms, so that a waiter notices the lock's release soon after.
_PAUSES_S = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05)


class _RunAtOnce:
    """In place of aiosqlite's queue to its thread: runs each call as it is queued and settles its future."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:  # handed to the awaiting caller, as aiosqlite's thread does
            if future is not None and not future.done():
                future.set_exception(error)
            return
        if future is not None and not future.done():
            future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection without its thread; see the module's docstring."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], busy_timeout: float) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _RunAtOnce()  # type: ignore[assignment]  # duck-typed: only put_nowait is called
        self.busy_timeout = busy_timeout  # seconds; a test may shorten it

    def __await__(self) -> Generator[Any, None, aiosqlite.Connection]:
        # aiosqlite starts its thread here; this connection has none.
        return self._connect().__await__()

    async def commit(self) -> None:
        # The one call that waits for the disk (a durable commit fsyncs the write-ahead log: about a millisecond,
        # often more): on a thread, so that the loop serves acknowledgements and other turns' work meanwhile. The
        # connection stays checked out to the committing transaction until it returns, so nothing else uses it.
        await asyncio.to_thread(self._conn.commit)

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        deadline: float | None = None
        pause = iter(_PAUSES_S)
        while True:
            try:
                return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
            except sqlite3.OperationalError as error:
                if not _busy(error) or self._conn.in_transaction:
                    raise
                now = time.monotonic()
                deadline = deadline if deadline is not None else now + self.busy_timeout
                if now >= deadline:
                    raise
                await asyncio.sleep(next(pause, _PAUSES_S[-1]))


def _busy(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


def connect(database: str, *, timeout: float = 5.0, **options: Any) -> InlineConnection:
    """A connection to the SQLite database `database` (with the URL's `options`), waiting at most `timeout`
    seconds for another process's lock: what `sqlite3.connect` takes, as SQLAlchemy's dialect prepares it."""

    def connector() -> sqlite3.Connection:
        # timeout=0: SQLite's own busy handler would sleep on the loop's thread (see the module's docstring).
        connection: sqlite3.Connection = sqlite3.connect(database, **{**options, "timeout": 0})
        return connection

    return InlineConnection(connector, busy_timeout=timeout)
