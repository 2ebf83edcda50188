"""Engines and sessions for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from portal.adapters import sqlite_inline
from portal.adapters.mapping import start_mappers

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Execution option: False for a transaction whose loss would harm nothing if the database's machine lost power
# right after its commit (see `losable`).
DURABLE = "chargedesk_durable"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine configured so that concurrent use cases cannot interleave their writes.

    PostgreSQL use cases take row locks (SELECT … FOR UPDATE) where they decide. SQLite has no row locks, so
    each transaction starts with BEGIN IMMEDIATE: writers queue for the database's single write lock instead of
    both reading a request as open and both deciding it.
    """
    start_mappers()
    # A failed statement's error message would otherwise carry its parameters (`[parameters: ('ben@…',)]`) into
    # every log line and traceback that shows it; nothing a person typed or is known by belongs in a log.
    kwargs.setdefault("hide_parameters", True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # aiosqlite logs each statement with its parameters at DEBUG: keep it quiet whatever the process's level.
        logging.getLogger("aiosqlite").setLevel(logging.INFO)
        # Every transaction here ends in an explicit COMMIT or ROLLBACK, so the pool's extra ROLLBACK on check-in
        # would be one more round trip to aiosqlite's thread per transaction, for nothing.
        kwargs.setdefault("pool_reset_on_return", None)
        # SQLite has one writer at a time anyway. Several connections racing for BEGIN IMMEDIATE make the losers
        # sleep in SQLite's busy handler with growing back-off (seconds of tail latency under load); one pooled
        # connection makes them queue fairly in the event loop instead. No use case holds two at once.
        if parsed.database not in (None, "", ":memory:"):
            kwargs.setdefault("pool_size", 1)
            kwargs.setdefault("max_overflow", 0)
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def losable(engine: AsyncEngine) -> AsyncEngine:
    """`engine`, for transactions that need not survive a power cut: on SQLite they commit without an fsync.

    A commit with `synchronous=NORMAL` is in the write-ahead log, which survives the process being killed, and the
    next durable commit's fsync makes it durable too; only a crash of the machine itself before then loses it. An
    SQLite database shares its machine with every process that uses it, so such a crash stops them all, and what
    they held in such transactions (a conversation's lease) would have run out anyway. On PostgreSQL the database's
    machine is another one, so the option changes nothing there: every transaction stays durable.
    """
    return engine.execution_options(**{DURABLE: False})


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect_inline(dialect: Any, _record: ConnectionPoolEntry, cargs: list[Any], cparams: dict[str, Any]) -> Any:
        # The dialect's own connect, with the file and options it read from the URL, but a connection whose
        # statements run on the event loop's thread instead of aiosqlite's (portal.adapters.sqlite_inline).
        return dialect.loaded_dbapi.connect(*cargs, async_creator_fn=sqlite_inline.connect, **cparams)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take control of transaction boundaries from the driver (see the "begin" hook below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # No busy_timeout: SQLite's busy handler would sleep on the event loop's thread. The connection waits
        # for another process's lock itself, without holding the loop (portal.adapters.sqlite_inline).
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # The safety level can only change between transactions, so it is set, when it differs, before BEGIN.
        level = "FULL" if conn.get_execution_options().get(DURABLE, True) else "NORMAL"
        info = conn.connection.info
        if info.get("synchronous") != level:
            conn.exec_driver_sql(f"PRAGMA synchronous={level}")
            info["synchronous"] = level
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: values read in a use case stay readable after its commit, without a lazy load.
    return async_sessionmaker(engine, expire_on_commit=False)
