"""Leases on rows: the one way a process claims a row for a while, keeps it, gives it up, or sees it run out.

A lease is two columns of the leased row: who holds it (`owner`) and until when (`until`). A row whose `until` is
NULL or past is free, so a holder that died stops counting after the ttl without anybody cleaning up. Every step is
one statement whose WHERE says whose the row must be (free to take; ours to renew or give back), so of two
processes racing for a row exactly one wins, on SQLite (one writer at a time) as on PostgreSQL (the row lock makes
the second UPDATE look at the row again once the first commits). The affected row count (or RETURNING) tells the
caller whether it won.

`RowLease` describes the lease of one table and builds those statements; three things use it: a conversation's turn
(`Leases` below, over `conversation_leases`), the inbox's turns (`bot.slack.inbox`, over `slack_inbox`) and the
delivery lanes (`bot.slack.delivery`, over `slack_channels`).

A conversation's lease is held while a turn runs — a lease, not a transaction: a turn calls actions that open their
own transactions (and on SQLite a writer holding one would block them all). Taking it is one transaction per
attempt, and the holder may release inside a transaction it commits anyway (see `Lease.release`). The order of a
conversation's turns across processes is the inbox's business (a turn is claimed only when no earlier one of its
conversation waits); here, within a process, turns run in the order they arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Delete, Table, Update, delete, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.schema import Column

from bot.engine.tables import conversation_leases
from portal.adapters.database import losable


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RowLease:
    """The lease kept in the `owner` and `until` columns of `table`'s rows, `ttl` long unless renewed.

    Each method returns a statement for the caller to run in its own transaction, where it may add conditions
    (`where`), other values, FOR UPDATE or RETURNING. A row is never held by two owners: `take` only takes free rows,
    `renew`, `release` and `drop` only touch the caller's own.
    """

    def __init__(
        self,
        table: Table,
        owner: Column[Any],
        until: Column[Any],
        ttl: timedelta,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.table = table
        self.owner = owner
        self.until = until
        self.ttl = ttl
        self.now = now

    def free(self, now: datetime | None = None) -> ColumnElement[bool]:
        """Nobody holds the row: never taken, given back, or its holder stopped renewing it."""
        return or_(self.until.is_(None), self.until <= (now or self.now()))

    def held(self, now: datetime | None = None) -> ColumnElement[bool]:
        return self.until > (now or self.now())

    def mine(self, owner: str) -> ColumnElement[bool]:
        return self.owner == owner

    def take(self, owner: str, *where: ColumnElement[bool], now: datetime | None = None) -> Update:
        """Lease the free rows matching `where` to `owner`; the affected rows are the ones it got."""
        now = now or self.now()
        return update(self.table).where(*where, self.free(now)).values(self._holding(owner, now))

    def take_or_insert(self, dialect: str, owner: str, key: dict[str, Any]) -> Insert:
        """Lease the row with primary key `key` to `owner`, creating it if there is none (one row or none affected)."""
        now = self.now()
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(self.table).values({**key, **self._holding(owner, now)})
        return statement.on_conflict_do_update(
            index_elements=list(self.table.primary_key.columns),
            set_=self._holding(owner, now),
            where=self.free(now),
        )

    def renew(self, owner: str, *where: ColumnElement[bool]) -> Update:
        """Push the expiry of `owner`'s rows matching `where` a ttl ahead; a row someone else took is left alone."""
        return update(self.table).where(*where, self.mine(owner)).values({self.until.key: self.now() + self.ttl})

    def release(self, owner: str, *where: ColumnElement[bool], **values: Any) -> Update:
        """Give `owner`'s rows matching `where` back (setting `values` too); none affected: the lease was lost."""
        return (
            update(self.table)
            .where(*where, self.mine(owner))
            .values({self.owner.key: None, self.until.key: None, **values})
        )

    def drop(self, owner: str, *where: ColumnElement[bool]) -> Delete:
        """Delete `owner`'s rows matching `where` (a lease row, or a leased job done)."""
        return delete(self.table).where(*where, self.mine(owner))

    def _holding(self, owner: str, now: datetime) -> dict[str, Any]:
        return {self.owner.key: owner, self.until.key: now + self.ttl}


class TurnBusy(TimeoutError):
    """Another process kept the conversation longer than we could wait."""


class Lease:
    """A conversation lease held by `Leases.hold`, which its holder may give back inside a transaction of its own.

    Releasing inside the transaction that stores the turn's result (`TrackerStore.append(..., also=lease.release)`)
    saves a transaction per turn. The release counts only once that transaction has committed, i.e. once the
    holder's block ends without an exception; otherwise `hold` releases in a transaction of its own, as always.
    """

    def __init__(self, rows: RowLease, sender_id: str, owner: str) -> None:
        self.rows = rows
        self.sender_id = sender_id
        self.owner = owner
        self.release_attempted = False

    async def release(self, conn: AsyncConnection) -> None:
        """Delete the lease in the caller's transaction on `conn`."""
        await conn.execute(self.drop())
        self.release_attempted = True

    def renew(self) -> Update:
        return self.rows.renew(self.owner, conversation_leases.c.sender_id == self.sender_id)

    def drop(self) -> Delete:
        return self.rows.drop(self.owner, conversation_leases.c.sender_id == self.sender_id)


class Leases:
    """One turn at a time per conversation, across processes: a `conversation_leases` row while the turn runs."""

    def __init__(
        self,
        engine: AsyncEngine,
        ttl: timedelta = timedelta(seconds=6),
        wait: float = 20.0,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.engine = engine
        # Taking a lease needs no fsync: a lease lost in a power cut is one whose holder stopped with the machine.
        self._taking = losable(engine)
        self.ttl = ttl
        self.wait = wait
        table = conversation_leases
        self.rows = RowLease(table, table.c.owner, table.c.until, ttl, now)

    @asynccontextmanager
    async def hold(
        self,
        sender_id: str,
        *,
        also: Callable[[AsyncConnection], Awaitable[None]] | None = None,
        wait: float | None = None,
    ) -> AsyncIterator[Lease]:
        """Hold the conversation's lease for the block; `also` runs in the transaction that takes it.

        (The engine reads the conversation's version there, saving a transaction of its own.) `wait` overrides
        how long to wait for it before `TurnBusy` (a modal must be answered within Slack's 3 seconds).
        """
        lease = Lease(self.rows, sender_id, uuid.uuid4().hex)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.wait if wait is None else wait)
        heartbeat = Heartbeat(self, lease)
        completed = False
        try:
            delay = 0.005
            while not await self._acquire(lease, also):
                if loop.time() > deadline:
                    raise TurnBusy(sender_id)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.05)
            # The lease lives `ttl` unless renewed: a heartbeat renews it while the turn runs, so that of a killed
            # process stops counting within seconds. Most turns end well before the first renewal is due, so the
            # heartbeat task is only created when it is (a task per turn costs more than the timer).
            heartbeat.start(loop)
            yield lease
            completed = True
        finally:
            await heartbeat.stop()
            # Released in the holder's own transaction, which committed since the block ended normally.
            if not (completed and lease.release_attempted):
                async with self.engine.begin() as conn:
                    await conn.execute(lease.drop())

    async def renew(self, lease: Lease) -> bool:
        """Push the lease's expiry `ttl` into the future; False if it is no longer ours."""
        async with self.engine.begin() as conn:
            renewed = await conn.execute(
                self.rows.renew(lease.owner, conversation_leases.c.sender_id == lease.sender_id)
            )
        return bool(renewed.rowcount == 1)

    async def _acquire(self, lease: Lease, also: Callable[[AsyncConnection], Awaitable[None]] | None) -> bool:
        """One attempt, in one transaction: the lease if it is free, and then `also`."""
        statement = self.rows.take_or_insert(self.engine.dialect.name, lease.owner, {"sender_id": lease.sender_id})
        async with self._taking.begin() as conn:
            if (await conn.execute(statement)).rowcount != 1:
                return False
            if also is not None:
                await also(conn)
            return True


class Heartbeat:
    """Renews a lease every `ttl / 3` while it is held, from a task created only when the first renewal is due."""

    def __init__(self, leases: Leases, lease: Lease) -> None:
        self.leases = leases
        self.lease = lease
        self.interval = leases.ttl.total_seconds() / 3
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = loop.call_later(self.interval, self._begin)

    def _begin(self) -> None:
        self._timer = None
        self._task = asyncio.create_task(self._beat())

    async def _beat(self) -> None:
        while True:
            await self.leases.renew(self.lease)
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
