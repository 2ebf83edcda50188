"""One turn at a time per conversation, across processes, in the order the messages were sent.

A lease row is held while a turn runs — a lease, not a transaction: a turn calls actions that open their own
transactions (and on SQLite a writer holding one would block them all). A lease left by a crashed process runs
out after `ttl`. With an order key (Slack's message timestamp), a turn also takes a ticket and waits until no
earlier ticket of the conversation is pending, so messages that reach different processes still run in the
order they were sent.

The ticket is one short transaction; every attempt to get in (the check for earlier tickets and the lease) is
another, and the holder may release inside a transaction it commits anyway (see `Lease.release`): a turn
usually costs one or two transactions here, plus the statements the release adds to the tracker append.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, String, Table, and_, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from portal.adapters.tables import metadata
from portal.adapters.types import UtcDateTime

conversation_leases = Table(
    "conversation_leases",
    metadata,
    Column("sender_id", String(255), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("until", UtcDateTime(), nullable=False),
)


conversation_tickets = Table(
    "conversation_tickets",
    metadata,
    Column("sender_id", String(255), primary_key=True),
    Column("order_key", String(64), primary_key=True),
    Column("expires", UtcDateTime(), nullable=False),
)


class TurnBusy(TimeoutError):
    """Another process kept the conversation longer than we could wait."""


class Lease:
    """A lease held by `Leases.hold`, which its holder may give back inside a transaction of its own.

    Releasing inside the transaction that stores the turn's result (`TrackerStore.append(..., also=lease.release)`)
    saves a transaction per turn. The release counts only once that transaction has committed, i.e. once the
    holder's block ends without an exception; otherwise `hold` releases in a transaction of its own, as always.
    """

    def __init__(self, sender_id: str, owner: str, order_key: str | None) -> None:
        self.sender_id = sender_id
        self.owner = owner
        self.order_key = order_key
        self.release_attempted = False

    async def release(self, conn: AsyncConnection) -> None:
        """Delete the lease (and the ticket) in the caller's transaction on `conn`."""
        await _delete(conn, self)
        self.release_attempted = True


class Leases:
    def __init__(
        self,
        engine: AsyncEngine,
        ttl: timedelta = timedelta(seconds=6),
        wait: float = 20.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.ttl = ttl
        self.wait = wait
        self.now = now

    @asynccontextmanager
    async def hold(
        self,
        sender_id: str,
        order_key: str | None = None,
        *,
        also: Callable[[AsyncConnection], Awaitable[None]] | None = None,
        wait: float | None = None,
    ) -> AsyncIterator[Lease]:
        """Hold the conversation's lease for the block; `also` runs in the transaction that takes it.

        (The engine reads the conversation's version there, saving a transaction of its own.) `wait` overrides
        how long to wait for it before `TurnBusy` (a modal must be answered within Slack's 3 seconds).
        """
        lease = Lease(sender_id, uuid.uuid4().hex, order_key)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.wait if wait is None else wait)
        # Ticket and lease live `ttl` unless renewed: a heartbeat renews them while the turn waits and runs, so
        # those of a killed process stop counting within seconds. Most turns end well before the first renewal is
        # due, so the heartbeat task is only created when it is (a task per turn costs more than the timer).
        heartbeat = Heartbeat(self, lease)
        heartbeat.start(loop)
        completed = False
        try:
            delay = 0.005
            first = True
            while not await self._acquire(lease, first, also):
                first = False
                if loop.time() > deadline:
                    raise TurnBusy(sender_id)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.05)
            yield lease
            completed = True
        finally:
            await heartbeat.stop()
            # Released in the holder's own transaction, which committed since the block ended normally.
            if not (completed and lease.release_attempted):
                async with self.engine.begin() as conn:
                    await _delete(conn, lease)

    async def renew(self, lease: Lease) -> None:
        """Push the lease's (and its ticket's) expiry `ttl` into the future."""
        until = self.now() + self.ttl
        async with self.engine.begin() as conn:
            await conn.execute(
                update(conversation_leases)
                .where(conversation_leases.c.sender_id == lease.sender_id, conversation_leases.c.owner == lease.owner)
                .values(until=until)
            )
            if lease.order_key is not None:
                await conn.execute(
                    update(conversation_tickets)
                    .where(
                        conversation_tickets.c.sender_id == lease.sender_id,
                        conversation_tickets.c.order_key == lease.order_key,
                    )
                    .values(expires=until)
                )

    async def _acquire(
        self, lease: Lease, first: bool, also: Callable[[AsyncConnection], Awaitable[None]] | None = None
    ) -> bool:
        """One attempt: on the first, take a ticket; then, in one transaction, if it is our turn, the lease.

        The ticket gets a transaction of its own, committed before we look for earlier tickets: a message sent
        just before ours may still be on its way to another process, and every moment its ticket has to land
        before our check keeps the two in order. (With the ticket in the same transaction as the check, the
        reliability test of messages alternating between processes swapped two of them now and then.)
        """
        if first and lease.order_key is not None:
            async with self.engine.begin() as conn:
                await self._ticket(conn, lease.sender_id, lease.order_key)
        async with self.engine.begin() as conn:
            if lease.order_key is not None and not await self._is_next(conn, lease.sender_id, lease.order_key):
                return False
            if not await self._take(conn, lease.sender_id, lease.owner):
                return False
            if also is not None:
                await also(conn)
            return True

    def _insert(self) -> Callable[..., Any]:
        return pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert

    async def _ticket(self, conn: AsyncConnection, sender_id: str, order_key: str) -> None:
        expires = self.now() + self.ttl
        statement = self._insert()(conversation_tickets).values(
            sender_id=sender_id, order_key=order_key, expires=expires
        )
        await conn.execute(statement.on_conflict_do_nothing())

    async def _is_next(self, conn: AsyncConnection, sender_id: str, order_key: str) -> bool:
        t = conversation_tickets
        earlier = await conn.scalar(
            select(t.c.order_key)
            .where(t.c.sender_id == sender_id, t.c.order_key < order_key, t.c.expires > self.now())
            .limit(1)
        )
        return earlier is None

    async def _take(self, conn: AsyncConnection, sender_id: str, owner: str) -> bool:
        now = self.now()
        table = conversation_leases
        statement = self._insert()(table).values(sender_id=sender_id, owner=owner, until=now + self.ttl)
        # Take a free lease, or one whose holder has been gone for longer than the ttl.
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.sender_id],
            set_={"owner": owner, "until": now + self.ttl},
            where=or_(table.c.until < now, table.c.owner == owner),
        )
        return bool((await conn.execute(statement)).rowcount == 1)


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


async def _delete(conn: AsyncConnection, lease: Lease) -> None:
    await conn.execute(
        delete(conversation_leases).where(
            and_(conversation_leases.c.sender_id == lease.sender_id, conversation_leases.c.owner == lease.owner)
        )
    )
    if lease.order_key is not None:
        await conn.execute(
            delete(conversation_tickets).where(
                and_(
                    conversation_tickets.c.sender_id == lease.sender_id,
                    conversation_tickets.c.order_key == lease.order_key,
                )
            )
        )
