"""Engines and sessions for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from portal.adapters.mapping import start_mappers

SQLITE_BUSY_TIMEOUT_MS = 30_000


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


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take control of transaction boundaries from the driver (see the "begin" hook below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: values read in a use case stay readable after its commit, without a lazy load.
    return async_sessionmaker(engine, expire_on_commit=False)
