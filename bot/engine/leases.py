"""One turn at a time per conversation, across processes, in the order the messages were sent.

A lease row is held while a turn runs — a lease, not a transaction: a turn calls actions that open their own
transactions (and on SQLite a writer holding one would block them all). A lease left by a crashed process runs
out after `ttl`. With an order key (Slack's message timestamp), a turn also takes a ticket and waits until no
earlier ticket of the conversation is pending, so messages that reach different processes still run in the
order they were sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, String, Table, and_, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

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
    async def hold(self, sender_id: str, order_key: str | None = None) -> AsyncIterator[None]:
        owner = uuid.uuid4().hex
        deadline = asyncio.get_running_loop().time() + self.wait
        if order_key is not None:
            await self._ticket(sender_id, order_key)
        # Ticket and lease live `ttl` unless renewed: this heartbeat renews them while the turn waits and runs, so
        # those of a killed process stop counting within seconds.
        heartbeat = asyncio.create_task(self._heartbeat(sender_id, owner, order_key))
        try:
            delay = 0.005
            while not (await self._is_next(sender_id, order_key) and await self._take(sender_id, owner)):
                if asyncio.get_running_loop().time() > deadline:
                    raise TurnBusy(sender_id)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.05)
            yield
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            async with self.engine.begin() as conn:
                await conn.execute(
                    delete(conversation_leases).where(
                        and_(conversation_leases.c.sender_id == sender_id, conversation_leases.c.owner == owner)
                    )
                )
                if order_key is not None:
                    await conn.execute(
                        delete(conversation_tickets).where(
                            and_(
                                conversation_tickets.c.sender_id == sender_id,
                                conversation_tickets.c.order_key == order_key,
                            )
                        )
                    )

    async def _heartbeat(self, sender_id: str, owner: str, order_key: str | None) -> None:
        while True:
            await asyncio.sleep(self.ttl.total_seconds() / 3)
            until = self.now() + self.ttl
            async with self.engine.begin() as conn:
                await conn.execute(
                    update(conversation_leases)
                    .where(conversation_leases.c.sender_id == sender_id, conversation_leases.c.owner == owner)
                    .values(until=until)
                )
                if order_key is not None:
                    await conn.execute(
                        update(conversation_tickets)
                        .where(
                            conversation_tickets.c.sender_id == sender_id,
                            conversation_tickets.c.order_key == order_key,
                        )
                        .values(expires=until)
                    )

    async def _ticket(self, sender_id: str, order_key: str) -> None:
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        expires = self.now() + self.ttl
        statement = insert(conversation_tickets).values(sender_id=sender_id, order_key=order_key, expires=expires)
        async with self.engine.begin() as conn:
            await conn.execute(statement.on_conflict_do_nothing())

    async def _is_next(self, sender_id: str, order_key: str | None) -> bool:
        if order_key is None:
            return True
        t = conversation_tickets
        async with self.engine.connect() as conn:
            earlier = await conn.scalar(
                select(t.c.order_key)
                .where(t.c.sender_id == sender_id, t.c.order_key < order_key, t.c.expires > self.now())
                .limit(1)
            )
        return earlier is None

    async def _take(self, sender_id: str, owner: str) -> bool:
        now = self.now()
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        table = conversation_leases
        statement = insert(table).values(sender_id=sender_id, owner=owner, until=now + self.ttl)
        # Take a free lease, or one whose holder has been gone for longer than the ttl.
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.sender_id],
            set_={"owner": owner, "until": now + self.ttl},
            where=or_(table.c.until < now, table.c.owner == owner),
        )
        async with self.engine.begin() as conn:
            return (await conn.execute(statement)).rowcount == 1
