"""One turn at a time per conversation, across processes: a lease row held while a turn runs.

A lease, not a transaction: a turn calls actions that open their own transactions (and on SQLite a writer holding
one would block them all). A lease left by a crashed process runs out after `ttl`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, String, Table, and_, delete, or_
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


class TurnBusy(TimeoutError):
    """Another process kept the conversation longer than we could wait."""


class Leases:
    def __init__(
        self,
        engine: AsyncEngine,
        ttl: timedelta = timedelta(seconds=30),
        wait: float = 20.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.ttl = ttl
        self.wait = wait
        self.now = now

    @asynccontextmanager
    async def hold(self, sender_id: str) -> AsyncIterator[None]:
        owner = uuid.uuid4().hex
        deadline = asyncio.get_running_loop().time() + self.wait
        delay = 0.005
        while not await self._take(sender_id, owner):
            if asyncio.get_running_loop().time() > deadline:
                raise TurnBusy(sender_id)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)
        try:
            yield
        finally:
            async with self.engine.begin() as conn:
                await conn.execute(
                    delete(conversation_leases).where(
                        and_(conversation_leases.c.sender_id == sender_id, conversation_leases.c.owner == owner)
                    )
                )

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
